/** pointwiseConv2d (the addon's own 1x1 convolution on the CPU) against libtorch's conv2d, values and gradients. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { callTensor } from '../../src/engine/dispatch';
import { assertClose, assertOnlyAskedGradients, convGrads as grads } from '../helpers';

/** libtorch's own conv2d, whatever T.conv2d routes to. */
const libtorchConv = (x: T.Tensor, w: T.Tensor, groups: number) => callTensor('aten::conv2d', [x, w, null, [1, 1], [0, 0], [1, 1], groups]);

interface Case { b: number; g: number; k: number; n: number; h: number; w: number }

const cases: Case[] = [
  { b: 2, g: 10, k: 8, n: 8, h: 1, w: 1 }, // 1x1 maps: one dot product per output
  { b: 2, g: 3, k: 5, n: 7, h: 2, w: 3 }, // short rows (6 positions), odd channel counts
  { b: 3, g: 1, k: 9, n: 4, h: 4, w: 4 }, // 16 positions: rows as taps
  { b: 1, g: 4, k: 16, n: 16, h: 5, w: 7 }, // 35 positions: the vector lanes and their tail
  { b: 2, g: 2, k: 3, n: 6, h: 9, w: 1 },
];

describe('pointwiseConv2d', () => {
  for (const dtype of ['float32', 'float64'] as const) for (const c of cases) {
    it(`${dtype}: values and gradients equal conv2d's for x ${c.b}x${c.g * c.k}x${c.h}x${c.w}, ${c.g} groups of ${c.k} -> ${c.n}`, () => {
      T.setDefaultFloatDType(dtype);
      try {
        T.manualSeed(c.h * 13 + c.w + c.g);
        const x = T.randn([c.b, c.g * c.k, c.h, c.w]);
        const w = T.randn([c.g * c.n, c.k, 1, 1]);
        const gy = T.randn([c.b, c.g * c.n, c.h, c.w]);
        const ref = grads((a, b) => libtorchConv(a, b, c.g), x, w, gy);
        const got = grads((a, b) => T.pointwiseConv2d(a, b, c.g), x, w, gy);
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        // Relative to each result's scale: sums of up to a few hundred products in another order.
        for (const k of ['y', 'gx', 'gw'] as const) {
          const scale = Math.max(...ref[k]!.map(Math.abs));
          assertClose(got[k]!.map((v) => v / scale), ref[k]!.map((v) => v / scale), tol, k);
        }
        T.dispose([x, w, gy]);
      } finally {
        T.setDefaultFloatDType('float32');
      }
    });
  }

  it('short rows with the batch folded into the vector lanes equal each image alone, bit for bit (values and input gradients)', () => {
    // B * P >= 8 with P < 8 takes the folded path; one image (B * P < 8) the transposed one, one dot product per output.
    for (const [b, g, k, n, h, w] of [[3, 2, 20, 5, 2, 2], [9, 1, 17, 6, 1, 1], [8, 3, 8, 4, 1, 3], [2, 10, 64, 64, 2, 2], [6, 1, 64, 320, 1, 1]]) {
      T.manualSeed(b * 7 + k);
      const x = T.randn([b, g * k, h, w]);
      const wt = T.randn([g * n, k, 1, 1]);
      const gy = T.randn([b, g * n, h, w]);
      const folded = grads((a, c) => T.pointwiseConv2d(a, c, g), x, wt, gy);
      const perImage = grads((a, c) => T.cat(T.split(a, 1, 0).map((xb) => T.pointwiseConv2d(xb, c, g)), 0), x, wt, gy);
      assert.ok(folded.y.every((v, i) => Object.is(v, perImage.y[i])), `values, x [${x.shape}]`);
      assert.ok(folded.gx!.every((v, i) => Object.is(v, perImage.gx![i])), `input gradients, x [${x.shape}]`);
      assertClose(folded.gw!, perImage.gw!, 1e-5, 'weight gradient'); // summed over the images in another order
      T.dispose([x, wt, gy]);
    }
  });

  it('float weight gradients sum as dot()\'s 8 lanes, tree and tail per image, then over the images: bit for bit', () => {
    // A plain loop in float32 arithmetic (Math.fround after every operation), the order the kernel promises whichever
    // loop computes it (dotMany on rows of 64 positions and more, 8 weights at a time on x transposed below that).
    const laneDot = (a: number[], b: number[]): number => {
      const lane = new Array(8).fill(0);
      let i = 0;
      for (; i + 8 <= a.length; i += 8) for (let k = 0; k < 8; k++) lane[k] = Math.fround(lane[k] + Math.fround(a[i + k] * b[i + k]));
      const f = Math.fround;
      let s = f(f(f(lane[0] + lane[1]) + f(lane[2] + lane[3])) + f(f(lane[4] + lane[5]) + f(lane[6] + lane[7])));
      for (; i < a.length; i++) s = f(s + f(a[i] * b[i]));
      return s;
    };
    for (const [b, g, k, n, h, w] of [[3, 2, 13, 5, 2, 4], [2, 1, 32, 9, 4, 4], [3, 2, 8, 3, 3, 5], [2, 1, 17, 4, 7, 9], [2, 1, 9, 3, 8, 8], [1, 2, 11, 2, 5, 13]]) {
      T.manualSeed(b * 11 + k + h);
      const x = T.randn([b, g * k, h, w]);
      const wt = T.randn([g * n, k, 1, 1]);
      const gy = T.randn([b, g * n, h, w]);
      const got = grads((a, c) => T.pointwiseConv2d(a, c, g), x, wt, gy).gw!;
      const [xs, gs, P] = [x.toArray(), gy.toArray(), h * w];
      const row = (a: number[], img: number, ch: number, C: number) => a.slice((img * C + ch) * P, (img * C + ch + 1) * P);
      for (let gi = 0; gi < g; gi++) for (let o = 0; o < n; o++) for (let kk = 0; kk < k; kk++) {
        let want = 0;
        for (let bi = 0; bi < b; bi++) want = Math.fround(want + laneDot(row(gs, bi, gi * n + o, g * n), row(xs, bi, gi * k + kk, g * k)));
        const at = ((gi * n + o) * k + kk);
        assert.ok(Object.is(got[at], want), `x [${x.shape}], weight (${gi * n + o}, ${kk}): ${got[at]} against ${want}`);
      }
      T.dispose([x, wt, gy]);
    }
  });

  it('computes only the gradients asked for, and reads strided inputs', () => {
    T.manualSeed(5);
    const big = T.randn([2, 12, 3, 3]);
    const w = T.randn([6, 4, 1, 1]);
    const gy = T.randn([2, 6, 3, 3]);
    const f = (a: T.Tensor, b: T.Tensor) => T.pointwiseConv2d(T.narrow(a, 1, 2, 8), b, 2); // channels 2..9 of 12: strided
    const ref = grads((a, b) => libtorchConv(T.narrow(a, 1, 2, 8), b, 2), big, w, gy);
    const both = assertOnlyAskedGradients(f, big, w, gy);
    assertClose(both.gx!, ref.gx!, 1e-5, 'input gradient');
    assertClose(both.gw!, ref.gw!, 1e-5, 'weight gradient');
    T.dispose([big, w, gy]);
  });

  it('refuses a weight that is not (G*N, K, 1, 1) for the input, naming it', () => {
    assert.throws(() => T.pointwiseConv2d(T.randn([1, 4, 5, 5]), T.randn([4, 4, 3, 3])), /pointwiseConv2d: weight \[4,4,3,3\] must be \(G\*N, 4, 1, 1\)/);
    assert.throws(() => T.pointwiseConv2d(T.randn([1, 6, 5, 5]), T.randn([4, 2, 1, 1]), 2), /pointwiseConv2d: weight \[4,2,1,1\] must be \(G\*N, 3, 1, 1\) for input \[1,6,5,5\] and groups=2/);
  });
});
