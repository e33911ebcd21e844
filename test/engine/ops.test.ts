/** Shape, element-wise, reduction and softmax ops against plain-JS references. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { assertClose, gradcheck, randomArray } from '../helpers';

const seq = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('shape ops', () => {
  const x = () => T.tensor(seq(24), [2, 3, 4]);

  it('reshape and flatten keep element order', () => {
    assert.deepEqual(T.reshape(x(), [4, -1]).shape, [4, 6]);
    assert.deepEqual(T.reshape(x(), [6, 4]).toArray(), seq(24));
    assert.deepEqual(T.flatten(x(), 1).shape, [2, 12]);
    assert.throws(() => T.reshape(x(), [5, 5]), /cannot view shape \[2,3,4\] \(24 elements\) as \[5,5\]/);
  });

  it('permute moves elements as index arithmetic says', () => {
    const p = T.permute(x(), [2, 0, 1]); // (4, 2, 3): p[k][i][j] = x[i][j][k]
    assert.deepEqual(p.shape, [4, 2, 3]);
    const v = p.toArray();
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) {
      assert.equal(v[k * 6 + i * 3 + j], i * 12 + j * 4 + k);
    }
    assert.throws(() => T.permute(x(), [0, 0, 1]), /not a permutation/);
  });

  it('narrow, slice, cat, stack, split', () => {
    assert.deepEqual(T.narrow(x(), 2, 1, 2).toArray(), [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22]);
    assert.deepEqual(T.slice(T.arange(10), 0, 1, 8, 3).toArray(), [1, 4, 7]);
    const a = T.tensor([1, 2], [1, 2]);
    const b = T.tensor([3, 4, 5, 6], [2, 2]);
    assert.deepEqual(T.cat([a, b], 0).toArray(), [1, 2, 3, 4, 5, 6]);
    assert.throws(() => T.cat([a, T.ones([1, 3])], 0), /incompatible/);
    assert.deepEqual(T.stack([a, a], 0).shape, [2, 1, 2]);
    assert.deepEqual(T.split(T.arange(5), 2).map((t) => t.toArray()), [[0, 1], [2, 3], [4]]);
    assert.throws(() => T.narrow(x(), 2, 3, 2), /exceeds dim 2 of size 4/);
  });

  it('pad adds constants on the given sides', () => {
    const p = T.pad(T.ones([1, 1, 1, 2]), [1, 0, 0, 1], -1); // left 1, right 0, top 0, bottom 1
    assert.deepEqual(p.shape, [1, 1, 2, 3]);
    assert.deepEqual(p.toArray(), [-1, 1, 1, -1, -1, -1]);
  });

  it('expand, unsqueeze, squeeze, flip, indexSelect, cast', () => {
    assert.deepEqual(T.expand(T.tensor([1, 2], [2, 1]), [2, 3]).toArray(), [1, 1, 1, 2, 2, 2]);
    assert.throws(() => T.expand(T.ones([2, 2]), [3, 2]), /cannot expand/);
    assert.deepEqual(T.unsqueeze(T.ones([3]), 0).shape, [1, 3]);
    assert.deepEqual(T.squeeze(T.ones([3, 1]), 1).shape, [3]);
    assert.deepEqual(T.flip(T.tensor([1, 2, 3], [1, 3]), [1]).toArray(), [3, 2, 1]);
    assert.deepEqual(T.indexSelect(T.tensor([5, 6, 7]), 0, T.tensor([2, 0], [2], { dtype: 'int64' })).toArray(), [7, 5]);
    const c = T.cast(T.tensor([1.7, -1.7]), 'int64');
    assert.equal(c.dtype, 'int64');
    assert.deepEqual(c.toArray(), [1, -1]);
  });
});

describe('element-wise ops', () => {
  const a = randomArray(12, 1);
  const b = randomArray(12, 2);
  const ta = () => T.tensor(a, [3, 4]);
  const tb = () => T.tensor(b, [3, 4]);

  it('arithmetic matches JS arithmetic', () => {
    assertClose(T.add(ta(), tb()).toArray(), a.map((v, i) => v + b[i]));
    assertClose(T.add(ta(), tb(), 2).toArray(), a.map((v, i) => v + 2 * b[i]));
    assertClose(T.sub(ta(), tb()).toArray(), a.map((v, i) => v - b[i]));
    assertClose(T.mul(ta(), tb()).toArray(), a.map((v, i) => v * b[i]));
    assertClose(T.div(ta(), tb()).toArray(), a.map((v, i) => v / b[i]), 1e-4);
    assertClose(T.mul(ta(), 3).toArray(), a.map((v) => v * 3));
    assertClose(T.add(ta(), 0.5).toArray(), a.map((v) => v + 0.5));
  });

  it('broadcasts like numpy and refuses incompatible shapes', () => {
    const row = T.tensor([10, 20, 30, 40], [1, 4]);
    assertClose(T.add(ta(), row).toArray(), a.map((v, i) => v + [10, 20, 30, 40][i % 4]));
    assert.throws(() => T.add(ta(), T.ones([3])), /shapes \[3,4\] and \[3\] do not broadcast/);
  });

  it('unary functions match Math', () => {
    const pos = a.map((v) => Math.abs(v) + 0.1);
    const tp = T.tensor(pos, [12]);
    assertClose(T.relu(ta()).toArray(), a.map((v) => Math.max(0, v)));
    assertClose(T.exp(ta()).toArray(), a.map(Math.exp));
    assertClose(T.log(tp).toArray(), pos.map(Math.log));
    assertClose(T.sqrt(tp).toArray(), pos.map(Math.sqrt));
    assertClose(T.neg(ta()).toArray(), a.map((v) => -v));
    assertClose(T.sigmoid(ta()).toArray(), a.map((v) => 1 / (1 + Math.exp(-v))));
    assertClose(T.clamp(ta(), -0.5, 0.5).toArray(), a.map((v) => Math.min(0.5, Math.max(-0.5, v))));
    assertClose(T.pow(tp, 2).toArray(), pos.map((v) => v * v));
  });

  it('comparisons give bool tensors usable by where', () => {
    const m = T.gt(ta(), 0);
    assert.equal(m.dtype, 'bool');
    assertClose(T.where(m, ta(), T.zerosLike(ta())).toArray(), a.map((v) => (v > 0 ? v : 0)));
    assert.deepEqual(T.eq(T.tensor([1, 2, 3]), 2).toArray(), [0, 1, 0]);
  });

  it('relu, exp, log, mul, div have finite-difference gradients', () => {
    gradcheck(([x, y]) => T.div(T.mul(T.exp(x), T.relu(y)), T.add(T.exp(y), 1)), [{ shape: [2, 3] }, { shape: [2, 3] }]);
  });
});

describe('reductions and softmax', () => {
  const a = randomArray(24, 3);
  const t = () => T.tensor(a, [2, 3, 4]);

  it('sum and mean over dims match loops', () => {
    assertClose([T.sum(t()).item()], [a.reduce((s, v) => s + v, 0)], 1e-5);
    const s1 = T.sum(t(), 1).toArray(); // (2, 4)
    const ref = [];
    for (let i = 0; i < 2; i++) for (let k = 0; k < 4; k++) {
      let s = 0;
      for (let j = 0; j < 3; j++) s += a[i * 12 + j * 4 + k];
      ref.push(s);
    }
    assertClose(s1, ref);
    assertClose(T.mean(t(), [1], true).toArray(), ref.map((v) => v / 3));
    assert.deepEqual(T.mean(t(), [1], true).shape, [2, 1, 4]);
    assertClose([T.mean(t(), [0, 1, 2]).item()], [a.reduce((s, v) => s + v, 0) / 24]);
  });

  it('max, min, argmax, maxDim', () => {
    assertClose([T.max(t()).item()], [Math.max(...a)]);
    assertClose([T.min(t()).item()], [Math.min(...a)]);
    assert.equal(T.argmax(t()).item(), a.indexOf(Math.max(...a)));
    const { values, indices } = T.maxDim(t(), 2);
    const ref = [];
    const refIdx = [];
    for (let r = 0; r < 6; r++) {
      const row = a.slice(r * 4, r * 4 + 4);
      ref.push(Math.max(...row));
      refIdx.push(row.indexOf(Math.max(...row)));
    }
    assertClose(values.toArray(), ref);
    assert.deepEqual(indices.toArray(), refIdx);
    assert.deepEqual(T.argmax(t(), -1).toArray(), refIdx);
  });

  it('softmax and logSoftmax match the closed form and sum to one', () => {
    const sm = T.softmax(t(), -1).toArray();
    const lsm = T.logSoftmax(t(), -1).toArray();
    for (let r = 0; r < 6; r++) {
      const row = a.slice(r * 4, r * 4 + 4);
      const z = row.reduce((s, v) => s + Math.exp(v), 0);
      assertClose(sm.slice(r * 4, r * 4 + 4), row.map((v) => Math.exp(v) / z));
      assertClose(lsm.slice(r * 4, r * 4 + 4), row.map((v) => v - Math.log(z)));
    }
    gradcheck(([x]) => T.softmax(x, 0), [{ shape: [4, 2] }]);
  });

  it('matmul matches a triple loop', () => {
    const A = randomArray(6, 4);
    const B = randomArray(12, 5);
    const C = T.matmul(T.tensor(A, [2, 3]), T.tensor(B, [3, 4])).toArray();
    const ref = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 4; j++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += A[i * 3 + k] * B[k * 4 + j];
      ref.push(s);
    }
    assertClose(C, ref);
    assert.throws(() => T.matmul(T.ones([2, 3]), T.ones([2, 3])), /cannot be multiplied/);
  });
});
