/**
 * sameDepthwiseMixed (one call of the addon's mixed_depthwise_conv2d on the
 * CPU) against what it replaces, a sameConv2d per weight and a cat: the same
 * values and gradients bit for bit; and against libtorch's conv2d.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { profileOps } from '../../src/engine/profile';
import { callTensor } from '../../src/engine/dispatch';
import { assertClose } from '../helpers';

/** Output and gradients (x, each weight) of f under a fixed upstream gradient g. */
function run(f: (x: T.Tensor, ws: T.Tensor[]) => T.Tensor, x0: T.Tensor, ws0: T.Tensor[], g: T.Tensor) {
  return T.tidy(() => {
    const x = T.clone(x0).setRequiresGrad();
    const ws = ws0.map((w) => T.clone(w).setRequiresGrad());
    const y = f(x, ws);
    const grads = T.grad(y, [x, ...ws], { grads: [g] });
    return { y: y.toArray(), shape: y.shape, grads: grads.map((t) => t!.toArray()) };
  });
}

/** The reference: each weight's sameConv2d on its slice of x (all of x when shared), concatenated. */
function separately(x: T.Tensor, ws: T.Tensor[]): T.Tensor {
  const cg = ws[0].shape[0];
  return T.cat(ws.map((w, i) => T.sameConv2d(x.shape[1] === cg ? x : T.narrow(x, 1, i * cg, cg), w, { groups: cg })), 1);
}

const MAPS = [[1, 1], [2, 2], [3, 1], [4, 4], [5, 7], [9, 6]];
const KERNELS = [[3, 5], [5, 3, 1]];

describe('sameDepthwiseMixed', () => {
  for (const dtype of ['float32', 'float64'] as const) for (const [h, w] of MAPS) for (const kernels of KERNELS) for (const shared of [true, false]) {
    it(`${dtype}: bit-identical to a sameConv2d per weight and a cat: ${h}x${w}, kernels ${kernels}, ${shared ? 'shared' : 'split'} input`, () => {
      T.setDefaultFloatDType(dtype);
      try {
        T.manualSeed(h * 13 + w + kernels.length);
        const cg = 11;
        const x = T.randn([3, shared ? cg : kernels.length * cg, h, w]);
        const ws = kernels.map((k) => T.randn([cg, 1, k, k]));
        const g = T.randn([3, kernels.length * cg, h, w]);
        const ref = run(separately, x, ws, g);
        const got = run((a, b) => T.sameDepthwiseMixed(a, b), x, ws, g);
        assert.deepEqual(got.shape, ref.shape);
        assertClose(got.y, ref.y, 0, 'output');
        got.grads.forEach((gr, i) => assertClose(gr, ref.grads[i], 0, i === 0 ? 'input gradient' : `weights[${i - 1}] gradient`));
        T.dispose([x, ...ws, g]);
      } finally {
        T.setDefaultFloatDType('float32');
      }
    });
  }

  for (const [kernels, d] of [[[[3, 3], [5, 5]], 1], [[[3, 3], [5, 5]], 2], [[[3, 5]], 1], [[[1, 3], [5, 1], [3, 3]], 3]] as [number[][], number][]) {
    it(`equals libtorch's conv2d with full padding per weight: kernels ${kernels.map((k) => k.join('x'))}, dilation ${d}`, () => {
      T.manualSeed(5 + d);
      const cg = 8;
      const x = T.randn([2, kernels.length * cg, 6, 5]);
      const ws = kernels.map(([kh, kw]) => T.randn([cg, 1, kh, kw]));
      const g = T.randn([2, kernels.length * cg, 6, 5]);
      const conv = (a: T.Tensor, b: T.Tensor[]) => T.cat(b.map((wi, i) => T.conv2d(T.narrow(a, 1, i * cg, cg), wi,
        { padding: [(d * (wi.shape[2] - 1)) / 2, (d * (wi.shape[3] - 1)) / 2], dilation: d, groups: cg })), 1);
      const ref = run(conv, x, ws, g);
      const got = run((a, b) => T.mixedDepthwiseConv2d(a, b, { dilation: d }), x, ws, g);
      assertClose(got.y, ref.y, 1e-5, 'output');
      got.grads.forEach((gr, i) => assertClose(gr, ref.grads[i], 1e-4, `gradient ${i}`));
      T.dispose([x, ...ws, g]);
    });
  }

  // The fused cell's edges read one state tiled (repeats = edges, block = width; G blocks when untied). Two more uses
  // of x (as the cell's two atrous ops read it) give x's gradient three addends, whose order autograd fixes: the same
  // order as through the expand is checked (with two, addition commutes and no order could show). On 1x1 maps both
  // kernels cut to a scale and the call takes the expand path; the other maps reach the addon's tiled loops.
  for (const dtype of ['float32', 'float64'] as const) for (const [h, w] of [[1, 1], [2, 2], [4, 4], [5, 3], [8, 8]]) for (const [G, R, block] of [[1, 2, 5], [1, 5, 3], [3, 2, 4]]) {
    it(`${dtype}: a tiled input equals tiling it first, bit for bit: ${h}x${w}, ${G} block(s) of ${block} repeated ${R} times`, () => {
      T.setDefaultFloatDType(dtype);
      try {
        T.manualSeed(h * 7 + w + R * 3 + G);
        const cg = G * R * block;
        const batch = h === 5 ? 1 : 2;
        const x = T.randn([batch, G * block, h, w]);
        const ws = [3, 5].map((k) => T.randn([cg, 1, k, k]));
        const others = [T.randn([batch, G * block, h, w]), T.randn([batch, G * block, h, w])];
        const g = T.randn([batch, 2 * cg + 2 * G * block, h, w]);
        const tiling = { repeats: R, block };
        const withOther = (y: T.Tensor, a: T.Tensor) => T.cat([y, ...others.map((o) => T.mul(a, o))], 1);
        const ref = run((a, b) => withOther(T.sameDepthwiseMixed(T.tiled(a, tiling), b), a), x, ws, g);
        const got = run((a, b) => withOther(T.sameDepthwiseMixed(a, b, tiling), a), x, ws, g);
        assert.deepEqual(got.shape, ref.shape);
        assertClose(got.y, ref.y, 0, 'output');
        got.grads.forEach((gr, i) => assertClose(gr, ref.grads[i], 0, i === 0 ? 'input gradient' : `weights[${i - 1}] gradient`));
        // And both against libtorch's conv2d on the tiled input (the fall-back path), to rounding.
        T.setSameConvShortcuts(false);
        const lib = run((a, b) => withOther(T.sameDepthwiseMixed(a, b, tiling), a), x, ws, g);
        T.setSameConvShortcuts(true);
        assertClose(got.y, lib.y, dtype === 'float32' ? 1e-5 : 1e-12, 'output against libtorch');
        got.grads.forEach((gr, i) => assertClose(gr, lib.grads[i], dtype === 'float32' ? 1e-4 : 1e-10, `gradient ${i} against libtorch`));
        T.dispose([x, ...ws, ...others, g]);
      } finally {
        T.setSameConvShortcuts(true);
        T.setDefaultFloatDType('float32');
      }
    });
  }

  // The addon reads a slice of channels (dense planes, any batch stride) and the output gradient's slice per weight in
  // place, writes each weight's output and split input gradient into its slice, and copies other layouts first.
  for (const layout of ['channel slice', 'channels last'] as const) for (const shared of [true, false]) for (const [h, w] of [[2, 2], [4, 4], [9, 6]]) {
    it(`reads a ${layout} input and a sliced output gradient, bit for bit: ${h}x${w}, ${shared ? 'shared' : 'split'} input`, () => {
      T.manualSeed(h * 5 + w + (shared ? 1 : 0));
      const cg = 9;
      const cx = shared ? cg : 2 * cg;
      const ws = [3, 5].map((k) => T.randn([cg, 1, k, k]));
      const big = T.randn([3, cx + 4, h, w]);
      const view = (a: T.Tensor) => (layout === 'channel slice' ? T.narrow(a, 1, 3, cx)
        : T.permute(T.contiguous(T.permute(T.narrow(a, 1, 3, cx), [0, 2, 3, 1])), [0, 3, 1, 2]));
      const other = T.randn([3, 5, h, w]);
      const g = T.randn([3, 2 * cg + 5, h, w]); // the cat below hands the op a slice of it
      const f = (mixed: (x: T.Tensor, b: T.Tensor[]) => T.Tensor) => (a: T.Tensor, b: T.Tensor[]) => T.cat([T.mul(other, 2), mixed(view(a), b)], 1);
      const ref = run(f(separately), big, ws, g);
      const got = run(f((x, b) => T.sameDepthwiseMixed(x, b)), big, ws, g);
      assertClose(got.y, ref.y, 0, 'output');
      got.grads.forEach((gr, i) => assertClose(gr, ref.grads[i], 0, i === 0 ? 'input gradient' : `weights[${i - 1}] gradient`));
      T.dispose([big, ...ws, other, g]);
    });
  }

  it('computes only the gradients asked for (each weight\'s kernel told which), and none for an input without them', () => {
    // Each weight's backward records (grad, input, weight, padding, dilation, needInput, needWeight, layout).
    const asked = (xGrad: boolean) => T.tidy(() => {
      const x = T.randn([2, 4, 5, 5]).setRequiresGrad(xGrad);
      const ws = [T.randn([4, 1, 3, 3]), T.randn([4, 1, 5, 5]).setRequiresGrad()];
      const { events } = profileOps(() => T.tidy(() => T.backward(T.sum(T.mixedDepthwiseConv2d(x, ws)))));
      if (!xGrad) assert.equal(x.grad, null);
      assert.deepEqual(ws[1].grad!.shape, [4, 1, 5, 5]);
      return events.filter((e) => e.name === 'adl::depthwise_conv2d_backward').map((e) => [e.args[2], e.args[5], e.args[6]]);
    });
    // Autograd runs the kernels last weight first.
    assert.deepEqual(asked(false), [[[4, 1, 5, 5], false, true], [[4, 1, 3, 3], false, false]]);
    const withX = asked(true);
    assert.deepEqual(withX.map((r) => r[1]), [true, true]);
  });

  it('refuses inputs and weights that do not fit, naming them', () => {
    T.tidy(() => {
      assert.throws(() => T.mixedDepthwiseConv2d(T.randn([1, 6, 4, 4]), [T.randn([4, 1, 3, 3]), T.randn([4, 1, 5, 5])]),
        /mixedDepthwiseConv2d: 2 weight\(s\) of 4 channels need an input of 4 or 8 channels, got \[1,6,4,4\]/);
      assert.throws(() => T.mixedDepthwiseConv2d(T.randn([1, 4, 4, 4]), [T.randn([4, 1, 3, 3]), T.randn([4, 1, 2, 2])]),
        /mixedDepthwiseConv2d: weights\[1\] \[4,1,2,2\] must be \(4, 1, kH, kW\) with odd kH and kW/);
      assert.throws(() => T.mixedDepthwiseConv2d(T.randn([1, 4, 4, 4]), []), /non-empty array of weights/);
      const ws = [T.randn([12, 1, 3, 3])];
      const tiles = (repeats: number, block: number) => ({ tiling: { repeats, block } });
      assert.throws(() => T.mixedDepthwiseConv2d(T.randn([1, 4, 4, 4]), ws, tiles(2, 4)),
        /mixedDepthwiseConv2d: an input of 4 channels repeated 2 times has 8 channels, the weights 12 \(input \[1,4,4,4\]\)/);
      assert.throws(() => T.mixedDepthwiseConv2d(T.randn([1, 6, 4, 4]), ws, tiles(2, 4)), /tiling block 4 does not divide the input's 6 channels/);
      assert.throws(() => T.mixedDepthwiseConv2d(T.randn([1, 6, 4, 4]), ws, tiles(0, 3)), /repeats >= 1 and block >= 1, got 0 and 3/);
      // The same checks on sameDepthwiseMixed's paths: the addon's, and libtorch's (shortcuts off) that tiles by expand.
      for (const shortcuts of [true, false]) {
        T.setSameConvShortcuts(shortcuts);
        try {
          const two = [T.randn([2, 1, 3, 3]), T.randn([2, 1, 5, 5])];
          assert.throws(() => T.sameDepthwiseMixed(T.randn([1, 2, 4, 4]), two, { repeats: 2, block: 2 }), /sameDepthwiseMixed: an input of 2 channels repeated 2 times has 4/);
          assert.throws(() => T.sameDepthwiseMixed(T.randn([1, 2, 4, 4]), two, { repeats: 0, block: 2 }), /sameDepthwiseMixed: tiling needs whole numbers/);
          assert.throws(() => T.sameDepthwiseMixed(T.randn([1, 6, 4, 4]), ws, { repeats: 2, block: 4 }), /sameDepthwiseMixed: tiling block 4 does not divide/);
        } finally {
          T.setSameConvShortcuts(true);
        }
      }
      assert.throws(() => T.tiled(T.randn([1, 6, 4, 4]), { repeats: 2, block: 4 }), /tiled: tiling block 4 does not divide the input's 6 channels/);
      // The addon's own checks, past the TypeScript ones; a huge repeats cannot overflow past them.
      assert.throws(() => callTensor('adl::mixed_depthwise_conv2d', [T.randn([1, 6, 4, 4]), ws, [1, 1], 2, 4]),
        /mixed_depthwise_conv2d: tiling block 4 does not divide the input's 6 channels/);
      assert.throws(() => callTensor('adl::mixed_depthwise_conv2d', [T.randn([1, 4, 4, 4]), ws, [1, 1], 2, 4]),
        /mixed_depthwise_conv2d: an input of 4 channels repeated 2 times does not give the weights' 12 channels/);
      assert.throws(() => callTensor('adl::mixed_depthwise_conv2d', [T.randn([2, 4, 3, 3]), [T.randn([4096, 1, 3, 3])], [1, 1], 2 ** 62 + 1024, 4]),
        /repeated 4611686018427388928 times does not give the weights' 4096 channels/);
      assert.throws(() => callTensor('adl::mixed_depthwise_conv2d', [T.randn([1, 6, 4, 4]), ws, [1, 1], 0, 4]), /repeats and block must be at least 1, got 0 and 4/);
    });
  });
});
