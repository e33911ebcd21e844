/** sameConv2d (taps that only read padding skipped) against conv2d with the full kernel: values and gradients. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { traceOps } from '../../src/engine/dispatch';
import { assertClose } from '../helpers';

interface Case { b: number; cin: number; cout: number; h: number; w: number; k: number; d: number; groups: number }

/** Output and gradients (x, weight) of f under a fixed upstream gradient. */
function run(f: (x: T.Tensor, w: T.Tensor) => T.Tensor, x0: T.Tensor, w0: T.Tensor, g: T.Tensor) {
  return T.tidy(() => {
    const x = T.clone(x0).setRequiresGrad();
    const w = T.clone(w0).setRequiresGrad();
    const y = f(x, w);
    T.backward(T.sum(T.mul(y, g)));
    const out = { y: y.toArray(), shape: y.shape, gx: x.grad!.toArray(), gw: w.grad!.toArray() };
    T.dispose([x.grad, w.grad]);
    return out;
  });
}

const cases: Case[] = [];
for (const [h, w] of [[1, 1], [2, 3], [3, 1], [4, 4], [5, 7], [9, 6]]) {
  cases.push({ b: 2, cin: 6, cout: 6, h, w, k: 5, d: 1, groups: 6 }); // depthwise 5x5 (sep5x5)
  cases.push({ b: 1, cin: 4, cout: 4, h, w, k: 3, d: 1, groups: 4 }); // depthwise 3x3
  cases.push({ b: 2, cin: 3, cout: 5, h, w, k: 5, d: 2, groups: 1 }); // atrous 5x5, rate 2
  cases.push({ b: 1, cin: 4, cout: 6, h, w, k: 3, d: 2, groups: 2 }); // untied atrous: grouped
  cases.push({ b: 1, cin: 3, cout: 2, h, w, k: 3, d: 12, groups: 1 }); // ASPP's rate 12
}

describe('sameConv2d', () => {
  for (const c of cases) {
    it(`equals conv2d with full padding: ${c.b}x${c.cin}x${c.h}x${c.w}, ${c.cout} out, ${c.k}x${c.k}, rate ${c.d}, ${c.groups} groups`, () => {
      T.manualSeed(c.h * 31 + c.w + c.k);
      const x = T.randn([c.b, c.cin, c.h, c.w]);
      const w = T.randn([c.cout, c.cin / c.groups, c.k, c.k]);
      const g = T.randn([c.b, c.cout, c.h, c.w]);
      const ref = run((a, b) => T.conv2d(a, b, { padding: (c.d * (c.k - 1)) / 2, dilation: c.d, groups: c.groups }), x, w, g);
      const got = run((a, b) => T.sameConv2d(a, b, { dilation: c.d, groups: c.groups }), x, w, g);
      assert.deepEqual(got.shape, ref.shape);
      assertClose(got.y, ref.y, 1e-5, 'output');
      assertClose(got.gx, ref.gx, 1e-5, 'input gradient');
      assertClose(got.gw, ref.gw, 1e-5, 'weight gradient');
      T.dispose([x, w, g]);
    });
  }

  it('skips exactly the taps that cannot reach the map, and none while ops are traced', () => {
    const seen: number[][] = [];
    const record = (x: T.Tensor, w: T.Tensor) => traceOps((call) => {
      if (call.op === 'aten::conv2d') seen.push((call.args[1] as T.Tensor).shape);
    }, () => T.sameConv2d(x, w, { dilation: 2 }));
    T.tidy(() => {
      T.sameConv2d(T.randn([1, 3, 4, 2]), T.randn([5, 3, 5, 5]), { dilation: 2 }); // untraced: 3x1 kept
      record(T.randn([1, 3, 4, 2]), T.randn([5, 3, 5, 5]));
    });
    assert.deepEqual(seen, [[5, 3, 5, 5]], 'traced (ONNX export, Multi-Adds): the full kernel');
    const kept: number[][] = [];
    T.tidy(() => {
      // Observe the untraced call's kernel through the profiler-free route: its output equals a 3x1 conv.
      const x = T.randn([1, 3, 4, 2]);
      const w = T.randn([5, 3, 5, 5]);
      const small = T.conv2d(x, T.narrow(T.narrow(w, 2, 1, 3), 3, 2, 1), { padding: [2, 0], dilation: 2 });
      assertClose(T.sameConv2d(x, w, { dilation: 2 }).toArray(), small.toArray(), 1e-6, '3x1 taps');
      kept.push(small.shape);
    });
    assert.deepEqual(kept, [[1, 5, 4, 2]]);
    assert.throws(() => T.sameConv2d(T.randn([1, 2, 3, 3]), T.randn([2, 2, 2, 2])), /odd sizes only/);
  });
});
