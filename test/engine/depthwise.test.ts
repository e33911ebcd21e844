/**
 * depthwiseConv2d (the addon's own forward and gradients on the CPU, in either
 * of its layouts) against libtorch's conv2d with groups = channels, and its
 * two layouts against each other: bit-identical in float32.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { profileOps } from '../../src/engine/profile';
import { callTensor } from '../../src/engine/dispatch';
import { assertClose, assertOnlyAskedGradients, convGrads as grads } from '../helpers';

interface Case { b: number; c: number; h: number; w: number; kh: number; kw: number; p: [number, number]; d: [number, number] }

const cases: Case[] = [
  { b: 2, c: 6, h: 9, w: 7, kh: 5, kw: 5, p: [2, 2], d: [1, 1] },
  { b: 1, c: 3, h: 16, w: 16, kh: 3, kw: 3, p: [1, 1], d: [1, 1] },
  { b: 3, c: 5, h: 4, w: 11, kh: 5, kw: 3, p: [2, 1], d: [1, 1] },
  { b: 2, c: 4, h: 8, w: 6, kh: 5, kw: 5, p: [4, 4], d: [2, 2] },
  { b: 2, c: 2, h: 5, w: 5, kh: 3, kw: 3, p: [0, 0], d: [1, 1] }, // valid: output smaller than input
  { b: 1, c: 7, h: 3, w: 2, kh: 5, kw: 5, p: [3, 2], d: [1, 1] }, // uneven padding, output taller than the input
  { b: 4, c: 40, h: 33, w: 17, kh: 5, kw: 5, p: [2, 2], d: [1, 1] }, // long rows: the vector lanes and their tail
  { b: 2, c: 9, h: 2, w: 2, kh: 3, kw: 3, p: [1, 1], d: [1, 1] }, // a 2x2 map: every output reads padding
  { b: 3, c: 5, h: 6, w: 1, kh: 3, kw: 1, p: [2, 0], d: [2, 1] }, // one tap across (sameConv2d's cut kernels), dilated down
  { b: 1, c: 3, h: 1, w: 9, kh: 1, kw: 5, p: [0, 4], d: [1, 2] },
  { b: 2, c: 10, h: 3, w: 4, kh: 3, kw: 3, p: [2, 2], d: [1, 1] }, // padding beyond the kernel's reach: output larger than the input
  { b: 3, c: 9, h: 4, w: 3, kh: 1, kw: 1, p: [1, 1], d: [1, 1] }, // a 1x1 kernel with padding: the border outputs are zero
  // Rows of whole vectors (widths 8 and 16): the float planes' gathers visit only the outputs.
  { b: 6, c: 5, h: 8, w: 8, kh: 5, kw: 5, p: [2, 2], d: [1, 1] },
  { b: 4, c: 3, h: 16, w: 16, kh: 3, kw: 3, p: [2, 2], d: [2, 2] },
  { b: 3, c: 4, h: 5, w: 16, kh: 3, kw: 5, p: [1, 2], d: [1, 1] },
  { b: 2, c: 3, h: 10, w: 10, kh: 3, kw: 3, p: [0, 0], d: [1, 1] }, // an output 8 wide from an input 10 wide
  { b: 2, c: 3, h: 6, w: 8, kh: 3, kw: 3, p: [1, 3], d: [1, 1] }, // an input 8 wide, an output 12 wide
];

describe('depthwiseConv2d', () => {
  // float64 runs the planes' loops whatever the layout asked (the test below shows which loops ran).
  for (const [dtype, layout] of [['float32', 'planes'], ['float32', 'channels'], ['float64', 'planes']] as const) for (const c of cases) {
    it(`${dtype}, ${layout}: values and gradients equal conv2d's for ${c.b}x${c.c}x${c.h}x${c.w}, ${c.kh}x${c.kw}, padding ${c.p}, dilation ${c.d}`, () => {
      T.setDefaultFloatDType(dtype);
      try {
        T.manualSeed(c.h * 7 + c.w);
        const x = T.randn([c.b, c.c, c.h, c.w]);
        const w = T.randn([c.c, 1, c.kh, c.kw]);
        const ref0 = T.conv2d(x, w, { padding: c.p, dilation: c.d, groups: c.c });
        const g = T.randn(ref0.shape);
        const ref = grads((a, b) => T.conv2d(a, b, { padding: c.p, dilation: c.d, groups: c.c }), x, w, g);
        const got = grads((a, b) => T.depthwiseConv2d(a, b, { padding: c.p, dilation: c.d, layout }), x, w, g);
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        assertClose(got.y, ref.y, tol, 'output');
        assertClose(got.gx!, ref.gx!, tol, 'input gradient');
        // Relative to the gradient's scale: float32 sums of hundreds of products in another order.
        const scale = Math.max(...ref.gw!.map(Math.abs));
        assertClose(got.gw!.map((v) => v / scale), ref.gw!.map((v) => v / scale), tol, 'weight gradient');
        T.dispose([x, w, g, ref0]);
      } finally {
        T.setDefaultFloatDType('float32');
      }
    });
  }

  it('float32: both layouts give bit-identical values and gradients (the same products summed in the same order)', () => {
    for (const c of [...cases, { b: 6, c: 37, h: 4, w: 4, kh: 5, kw: 5, p: [2, 2], d: [1, 1] } as Case]) {
      T.manualSeed(c.c);
      const x = T.randn([c.b, c.c, c.h, c.w]);
      const w = T.randn([c.c, 1, c.kh, c.kw]);
      const g = T.randn(T.tidy(() => T.depthwiseConv2d(x, w, { padding: c.p, dilation: c.d })).shape);
      const run = (layout: 'planes' | 'channels') => grads((a, b) => T.depthwiseConv2d(a, b, { padding: c.p, dilation: c.d, layout }), x, w, g);
      const [planes, channels] = [run('planes'), run('channels')];
      const what = `${c.b}x${c.c}x${c.h}x${c.w}, ${c.kh}x${c.kw}`;
      assertClose(channels.y, planes.y, 0, `${what}: output`);
      assertClose(channels.gx!, planes.gx!, 0, `${what}: input gradient`);
      assertClose(channels.gw!, planes.gw!, 0, `${what}: weight gradient`);
      T.dispose([x, w, g]);
    }
  });

  it('runs the loops asked for (float32), channels innermost by default up to 16 output pixels, and the planes for float64', () => {
    // The backward pass records its layout (1 planes, 2 channels innermost) as its last profiler argument.
    const layoutRun = (h: number, layout: 'auto' | 'planes' | 'channels', dtype: 'float32' | 'float64' = 'float32') => {
      const x = T.cast(T.randn([2, 3, h, h]), dtype).setRequiresGrad();
      const w = T.cast(T.randn([3, 1, 3, 3]), dtype).setRequiresGrad();
      const { events } = profileOps(() => T.tidy(() => T.backward(T.sum(T.depthwiseConv2d(x, w, { padding: 1, layout })))));
      T.dispose([x, w]);
      return events.filter((e) => e.name === 'adl::depthwise_conv2d_backward').map((e) => e.args[7]);
    };
    assert.deepEqual(layoutRun(4, 'channels'), [2]);
    assert.deepEqual(layoutRun(4, 'planes'), [1]);
    assert.deepEqual(layoutRun(4, 'auto'), [2], '16 output pixels: channels innermost');
    assert.deepEqual(layoutRun(5, 'auto'), [1], '25 output pixels: planes');
    assert.deepEqual(layoutRun(4, 'channels', 'float64'), [1], 'float64: planes');
  });

  it('refuses an unknown layout, naming it', () => {
    for (const bad of ['rows', 'toString']) {
      assert.throws(() => T.depthwiseConv2d(T.randn([1, 2, 3, 3]), T.randn([2, 1, 3, 3]), { layout: bad as 'auto' }), new RegExp(`depthwiseConv2d: layout must be one of auto, planes, channels, got '${bad}'`));
    }
  });

  it('computes only the gradients asked for', () => {
    const x = T.randn([2, 3, 6, 6]);
    const w = T.randn([3, 1, 5, 5]);
    const g = T.randn([2, 3, 6, 6]);
    const f = (a: T.Tensor, b: T.Tensor) => T.depthwiseConv2d(a, b, { padding: 2 });
    assertOnlyAskedGradients(f, x, w, g);
    T.dispose([x, w, g]);
  });

  it('reads non-contiguous inputs and weights (channel slices and cut kernels, as sameConv2d passes them)', () => {
    T.manualSeed(3);
    const big = T.randn([2, 10, 7, 7]);
    const wBig = T.randn([4, 1, 5, 5]);
    const g = T.randn([2, 4, 7, 7]);
    // The slices are taken inside, so that they stay strided views of the leaves.
    const slice = (a: T.Tensor) => T.narrow(a, 1, 3, 4); // (2, 4, 7, 7) of (2, 10, 7, 7)
    const centre = (b: T.Tensor) => T.narrow(T.narrow(b, 2, 1, 3), 3, 1, 3); // the centre 3x3 of each 5x5
    const ref = grads((a, b) => T.conv2d(slice(a), centre(b), { padding: 1, groups: 4 }), big, wBig, g);
    const got = grads((a, b) => T.depthwiseConv2d(slice(a), centre(b), { padding: 1 }), big, wBig, g);
    assertClose(got.y, ref.y, 1e-5, 'output');
    assertClose(got.gx!, ref.gx!, 1e-5, 'input gradient');
    assertClose(got.gw!, ref.gw!, 1e-4, 'weight gradient');
    T.dispose([big, wBig, g]);
  });

  it('refuses a weight that is not (C, 1, kH, kW) with a message naming it', () => {
    assert.throws(() => T.depthwiseConv2d(T.randn([1, 4, 5, 5]), T.randn([4, 2, 3, 3])), /depthwiseConv2d: weight \[4,2,3,3\] must be \(4, 1, kH, kW\)/);
  });

  it('the addon\'s ops refuse negative padding and dilation below 1 when called directly (the loops would write outside a plane)', () => {
    T.tidy(() => {
      const [x, w] = [T.randn([1, 2, 8, 8]), T.randn([2, 1, 3, 3])];
      for (const layout of [0, 1, 2]) {
        assert.throws(() => callTensor('adl::depthwise_conv2d_layout', [x, w, [-1, -1], [1, 1], layout]), /padding takes two values of at least 0, got \[-1, -1\]/);
        assert.throws(() => callTensor('adl::depthwise_conv2d_layout', [x, w, [1, 0], [1, 0], layout]), /dilation takes two values of at least 1, got \[1, 0\]/);
      }
      assert.throws(() => callTensor('adl::mixed_depthwise_conv2d', [x, [w], [0, 1], 1, 1]), /dilation takes two values of at least 1, got \[0, 1\]/);
      assert.equal(callTensor('adl::depthwise_conv2d_layout', [x, w, [0, 0], [1, 1], 1]).shape.join(), '1,2,6,6', 'padding 0 is fine');
    });
  });
});
