/**
 * samePools2d and the stride-1 'same' pools that avgPool2d / maxPool2d route to the addon's own kernel
 * (adl::same_pools2d) against libtorch's avg_pool2d and max_pool2d called directly: the same values and
 * gradients bit for bit (ties, NaN, -inf and signed zeros included), and x's gradient summed in the order
 * autograd sums it for separate pooling nodes.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { callTensor } from '../../src/engine/dispatch';

/** libtorch's own pool, whatever T.avgPool2d / T.maxPool2d route to. */
function libtorchPool(x: T.Tensor, kind: T.PoolKind, k: number): T.Tensor {
  const p = (k - 1) / 2;
  return kind === 'avg' ? callTensor('aten::avg_pool2d', [x, [k, k], [1, 1], [p, p], false, false, null])
    : callTensor('aten::max_pool2d', [x, [k, k], [1, 1], [p, p], [1, 1], false]);
}

/** Output and x's gradient of f under the upstream gradient g; `extra` adds another use of x (its gradient adds to the pools'). */
function run(f: (x: T.Tensor) => T.Tensor, x0: T.Tensor, g: T.Tensor, extra = false) {
  return T.tidy(() => {
    const x = T.clone(x0).setRequiresGrad();
    const y = f(x);
    const loss = T.sum(T.mul(y, g));
    const [gx] = T.grad(extra ? T.add(loss, T.sum(T.mul(x, T.reshape(T.narrow(g, 1, 0, x.shape[1]), x.shape)))) : loss, [x]);
    return { y: y.toArray(), shape: y.shape, gx: gx!.toArray() };
  });
}

function assertSameBits(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, libtorch's ${want[i]}`);
}

/**
 * Inputs of four kinds: normal values; small whole numbers (ties in every window); NaN, -inf and signed zeros; the
 * smallest negative subnormal among zeros (an average that rounds to -0, which libtorch's sum turns into +0).
 */
function input(kind: 'randn' | 'ties' | 'special' | 'tiny', shape: number[]): T.Tensor {
  if (kind === 'randn') return T.randn(shape);
  const n = shape.reduce((a, b) => a * b, 1);
  const special = [NaN, -Infinity, 1, -0, 0, 2, -Infinity, -1];
  const tiny = T.getDefaultFloatDType() === 'float32' ? -1.4e-45 : -5e-324;
  return T.tensor(Array.from({ length: n }, (_, i) => (kind === 'ties' ? ((i * 7919) % 5) - 2
    : kind === 'tiny' ? (i % 3 === 0 ? tiny : 0) : special[(i * 31) % special.length])), shape);
}

const SHAPES = [[2, 3, 1, 1], [1, 2, 2, 3], [2, 5, 4, 4], [3, 4, 7, 9], [1, 3, 9, 2], [2, 2, 13, 17], [2, 96, 4, 4]];

describe('samePools2d (adl::same_pools2d)', () => {
  for (const dtype of ['float32', 'float64'] as const) for (const k of [1, 3, 5]) {
    it(`${dtype}, ${k}x${k}: avg and max values and gradients equal libtorch's bit for bit`, () => {
      T.setDefaultFloatDType(dtype);
      try {
        for (const shape of SHAPES) for (const kind of ['randn', 'ties', 'special', 'tiny'] as const) {
          T.manualSeed(shape[2] * 17 + shape[3] + k);
          const x = input(kind, shape);
          const g = T.randn([shape[0], 2 * shape[1], shape[2], shape[3]]);
          const want = run((a) => T.cat([libtorchPool(a, 'avg', k), libtorchPool(a, 'max', k)], 1), x, g, true);
          const got = run((a) => T.samePools2d(a, ['avg', 'max'], k), x, g, true);
          assert.deepEqual(got.shape, want.shape);
          assertSameBits(got.y, want.y, `${kind} [${shape}] output`);
          assertSameBits(got.gx, want.gx, `${kind} [${shape}] input gradient`);
          // Each kind alone, as avgPool2d / maxPool2d route it.
          for (const one of ['avg', 'max'] as const) {
            const gOne = T.narrow(g, 1, 0, shape[1]);
            const routed = run((a) => (one === 'avg' ? T.avgPool2d(a, k, { stride: 1, padding: (k - 1) / 2 }) : T.maxPool2d(a, k, { stride: 1, padding: (k - 1) / 2 })), x, gOne);
            const lib = run((a) => libtorchPool(a, one, k), x, gOne);
            assertSameBits(routed.y, lib.y, `${one} ${kind} [${shape}] output`);
            assertSameBits(routed.gx, lib.gx, `${one} ${kind} [${shape}] input gradient`);
          }
          T.dispose([x, g]);
        }
      } finally {
        T.setDefaultFloatDType('float32');
      }
    });
  }

  it('adds x\'s gradients in the order of separate pooling nodes (the order shows in the rounding)', () => {
    T.manualSeed(3);
    const x = T.mul(T.randn([2, 8, 6, 6]), 1e3);
    const g = T.randn([2, 16, 6, 6]);
    const got = run((a) => T.samePools2d(a, ['avg', 'max']), x, g, true);
    // The three contributions to x's gradient, each alone: the extra product's, max's and avg's.
    const part = (f: (a: T.Tensor) => T.Tensor) => T.tidy(() => {
      const a = T.clone(x).setRequiresGrad();
      return T.grad(f(a), [a])[0]!.keep();
    });
    const gExtra = part((a) => T.sum(T.mul(a, T.reshape(T.narrow(g, 1, 0, 8), a.shape))));
    const gAvg = part((a) => T.sum(T.mul(libtorchPool(a, 'avg', 3), T.narrow(g, 1, 0, 8))));
    const gMax = part((a) => T.sum(T.mul(libtorchPool(a, 'max', 3), T.narrow(g, 1, 8, 8))));
    assertSameBits(got.gx, T.add(T.add(gExtra, gMax), gAvg).toArray(), '(extra + max) + avg');
    const otherOrder = T.add(gExtra, T.add(gMax, gAvg)).toArray();
    assert.ok(otherOrder.some((v, i) => !Object.is(v, got.gx[i])), 'extra + (max + avg) rounds differently somewhere: the check above tells the orders apart');
    T.dispose([x, g, gExtra, gAvg, gMax]);
  });

  it('second derivatives through the routed pools equal libtorch\'s (the backward builds a graph with create_graph)', () => {
    T.manualSeed(6);
    const x0 = T.randn([2, 3, 5, 4]);
    const g = T.randn([2, 6, 5, 4]);
    const v = T.randn([2, 3, 5, 4]);
    const second = (routed: boolean) => T.tidy(() => {
      T.setPoolRouting(routed);
      try {
        const x = T.clone(x0).setRequiresGrad();
        const y = T.samePools2d(x, ['avg', 'max']);
        const [gx] = T.grad(T.sum(T.mul(T.mul(y, y), g)), [x], { createGraph: true });
        return T.grad(T.sum(T.mul(gx!, v)), [x])[0]!.toArray();
      } finally {
        T.setPoolRouting(true);
      }
    });
    assertSameBits(second(true), second(false), 'second derivative');
    T.dispose([x0, g, v]);
  });

  it('computes no gradient for an input that needs none, and pools views', () => {
    T.manualSeed(4);
    const big = T.randn([2, 6, 5, 5]);
    const view = T.narrow(big, 1, 1, 4); // strided
    assertSameBits(T.samePools2d(view, ['max', 'avg']).toArray(), T.cat([libtorchPool(view, 'max', 3), libtorchPool(view, 'avg', 3)], 1).toArray(), 'output');
    assert.equal(T.samePools2d(view, ['avg']).requiresGrad, false);
    T.dispose([big, view]);
  });

  it('falls back to libtorch\'s pools with the routing off, and keeps strided and padded-differently pools there', () => {
    T.manualSeed(5);
    const x = T.randn([1, 3, 6, 6]);
    T.setPoolRouting(false);
    try {
      assertSameBits(T.samePools2d(x, ['avg', 'max']).toArray(), T.cat([libtorchPool(x, 'avg', 3), libtorchPool(x, 'max', 3)], 1).toArray(), 'fallback');
    } finally {
      T.setPoolRouting(true);
    }
    const strided = T.avgPool2d(x, 3, { stride: 2, padding: 1 });
    assert.deepEqual(strided.shape, [1, 3, 3, 3]);
    assertSameBits(strided.toArray(), callTensor('aten::avg_pool2d', [x, [3, 3], [2, 2], [1, 1], false, false, null]).toArray(), 'stride 2');
    T.dispose([x]);
  });

  it('refuses bad kinds and kernels, naming them', () => {
    const x = T.randn([1, 2, 4, 4]);
    assert.throws(() => T.samePools2d(x, ['min' as T.PoolKind]), /samePools2d: kinds\[0\] must be one of avg, max, got 'min'/);
    assert.throws(() => T.samePools2d(x, []), /samePools2d: expected a non-empty array of kinds/);
    assert.throws(() => T.samePools2d(x, ['avg'], 2), /samePools2d: kernel must be an odd whole number, got 2/);
    assert.throws(() => T.samePools2d(T.randn([2, 4, 4]), ['avg']), /samePools2d/);
    assert.throws(() => callTensor('adl::same_pools2d', [[x, x], [0, 1], [0, 0], 3]), /slots must list 0 to 1 once each/);
    assert.throws(() => callTensor('adl::same_pools2d', [[T.zeros([1, 2, 0, 3])], [0], [0], 3]), /maps must have pixels, got \[1, 2, 0, 3\]/);
    assert.throws(() => callTensor('adl::same_pools2d', [[T.zeros([2, 2, 2])], [0], [0], 3]), /inputs must be \(B, C, H, W\), got \[2, 2, 2\]/);
    assert.throws(() => callTensor('adl::same_pools2d', [[x], [0], [0], 257]), /the kernel must be odd and at most 255, got 257/);
    T.dispose([x]);
  });
});
