/**
 * batchNorm in training on the CPU (the addon's own adl::batch_norm_train)
 * against libtorch's batch_norm: outputs, running statistics, and the
 * gradients of input, weight and bias.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { assertClose } from '../helpers';

interface Case { shape: number[]; affine: boolean; momentum: number; what: string }

const cases: Case[] = [
  { shape: [3, 6, 1, 1], affine: false, momentum: 0.1, what: '1x1 maps, three values a channel' },
  { shape: [2, 5, 1, 1], affine: true, momentum: 0.1, what: '1x1 maps, two values a channel (the input gradient is zero)' },
  { shape: [3, 5, 2, 3], affine: true, momentum: 0.1, what: 'odd sizes' },
  { shape: [2, 7, 9, 11], affine: true, momentum: 0.3, what: 'planes longer than a vector, with a tail' },
  { shape: [1, 4, 5, 5], affine: false, momentum: 0, what: 'one image, momentum 0 (a recomputed pass)' },
  { shape: [4, 3, 6], affine: true, momentum: 0.1, what: 'rank 3' },
  { shape: [2, 600, 2, 2], affine: true, momentum: 0.1, what: 'channels over two threads\' tasks' },
];

/**
 * The size of the input gradient's terms, max |gy| * max_c |w_c| / std_c (a plain loop over the
 * channels): the gradient itself can cancel to rounding noise (two values a channel give exactly 0).
 */
function inputGradScale(shape: number[], x: number[], w: number[] | null, gy: number[]): number {
  const [b, ch] = shape;
  const p = x.length / (b * ch);
  let worst = 0;
  for (let c = 0; c < ch; c++) {
    const vals: number[] = [];
    for (let i = 0; i < b; i++) for (let q = 0; q < p; q++) vals.push(x[(i * ch + c) * p + q]);
    const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
    const variance = vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length;
    worst = Math.max(worst, Math.abs(w ? w[c] : 1) / Math.sqrt(variance + 1e-5));
  }
  return worst * Math.max(...gy.map(Math.abs));
}

/** One forward and backward: y, the running statistics after it, and the gradients (of gy . y). */
function run(c: Case, own: boolean, seed: number) {
  T.setBatchNormRouting(own);
  try {
    return T.tidy(() => {
      T.manualSeed(seed);
      const ch = c.shape[1];
      // An offset mean and a spread unlike 1, so that centring and scaling both matter.
      const x = T.add(T.mul(T.randn(c.shape), 3), 2).setRequiresGrad(true);
      const w = c.affine ? T.add(T.randn([ch]), 1).setRequiresGrad(true) : null;
      const b = c.affine ? T.randn([ch]).setRequiresGrad(true) : null;
      const runningMean = T.randn([ch]);
      const runningVar = T.add(T.abs(T.randn([ch])), 0.5);
      const gy = T.randn(c.shape);
      const y = T.batchNorm(x, { weight: w, bias: b, runningMean, runningVar, training: true, momentum: c.momentum, eps: 1e-5 });
      T.backward(T.sum(T.mul(y, gy)));
      return {
        y: y.toArray(), mean: runningMean.toArray(), var: runningVar.toArray(),
        gx: x.grad!.toArray(), gw: w?.grad?.toArray() ?? [], gb: b?.grad?.toArray() ?? [],
        gxScale: inputGradScale(c.shape, x.toArray(), w?.toArray() ?? null, gy.toArray()),
      };
    });
  } finally {
    T.setBatchNormRouting(true);
  }
}

describe('batchNorm (own CPU kernel in training)', () => {
  for (const dtype of ['float32', 'float64'] as const) for (const [i, c] of cases.entries()) {
    it(`${dtype}: equals libtorch's batch_norm on [${c.shape}], ${c.what}`, () => {
      T.setDefaultFloatDType(dtype);
      try {
        const ref = run(c, false, 11 + i);
        const got = run(c, true, 11 + i);
        const tol = dtype === 'float32' ? 1e-5 : 1e-12;
        for (const k of ['y', 'mean', 'var', 'gx', 'gw', 'gb'] as const) {
          // Relative to each result's scale (gradients are sums over the batch).
          const scale = Math.max(1e-30, k === 'gx' ? ref.gxScale : 0, ...ref[k].map(Math.abs));
          assertClose(got[k].map((v) => v / scale), ref[k].map((v) => v / scale), tol, k);
        }
      } finally {
        T.setDefaultFloatDType('float32');
      }
    });
  }

  it('reads a strided input, and computes only the gradients asked for', () => {
    T.tidy(() => {
      T.manualSeed(3);
      const big = T.randn([2, 10, 4, 4]);
      const w = T.randn([6]);
      const gy = T.randn([2, 6, 4, 4]);
      const grads = (own: boolean, needX: boolean) => {
        T.setBatchNormRouting(own);
        try {
          const x = T.clone(big).setRequiresGrad(needX);
          const wv = T.clone(w).setRequiresGrad(true);
          const y = T.batchNorm(T.narrow(x, 1, 2, 6), { weight: wv, training: true });
          T.backward(T.sum(T.mul(y, gy)));
          return { y: y.toArray(), gx: x.grad?.toArray() ?? null, gw: wv.grad!.toArray() };
        } finally {
          T.setBatchNormRouting(true);
        }
      };
      const ref = grads(false, true);
      const got = grads(true, true);
      const onlyW = grads(true, false);
      assertClose(got.y, ref.y, 1e-5, 'y');
      assertClose(got.gx!, ref.gx!, 1e-5, 'input gradient');
      assertClose(got.gw, ref.gw, 1e-5, 'weight gradient');
      assert.equal(onlyW.gx, null);
      assertClose(onlyW.gw, got.gw, 0, 'weight gradient alone');
    });
  });

  it('leaves the running statistics exactly as they were at momentum 0', () => {
    T.tidy(() => {
      const rm = T.randn([3]);
      const rv = T.add(T.abs(T.randn([3])), 0.1);
      const [m0, v0] = [rm.toArray(), rv.toArray()];
      T.batchNorm(T.randn([2, 3, 4, 4]), { runningMean: rm, runningVar: rv, training: true, momentum: 0 });
      assert.deepEqual(rm.toArray(), m0);
      assert.deepEqual(rv.toArray(), v0);
    });
  });
});
