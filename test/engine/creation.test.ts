import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';

describe('creation and read-back', () => {
  it('zeros, ones, full have the right shape, dtype and values', () => {
    const z = T.zeros([2, 3]);
    assert.deepEqual(z.shape, [2, 3]);
    assert.equal(z.dtype, 'float32');
    assert.deepEqual(z.toArray(), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(T.ones([2], { dtype: 'int64' }).toArray(), [1, 1]);
    assert.equal(T.ones([2], { dtype: 'int64' }).dtype, 'int64');
    assert.deepEqual(T.full([3], 2.5).toArray(), [2.5, 2.5, 2.5]);
  });

  it('tensor() round-trips float32, float64, int64, int32 and uint8 data', () => {
    const cases: [T.DType, number[]][] = [
      ['float32', [1.5, -2, 3.25]],
      ['float64', [1e-300, 2, -3]],
      ['int64', [2 ** 40, -5, 7]],
      ['int32', [-(2 ** 31), 0, 2 ** 31 - 1]],
      ['uint8', [0, 128, 255]],
    ];
    for (const [dtype, data] of cases) {
      const t = T.tensor(data, [3], { dtype });
      assert.equal(t.dtype, dtype);
      assert.deepEqual(t.toArray(), data, dtype);
    }
    const i64 = T.tensor(BigInt64Array.from([1n, 2n]));
    assert.equal(i64.dtype, 'int64');
    assert.ok(i64.data() instanceof BigInt64Array);
  });

  it('tensor() rejects data that does not fill the shape', () => {
    assert.throws(() => T.tensor([1, 2, 3], [2, 2]), /shape \[2,2\] needs 4 elements, data has 3/);
  });

  it('arange counts like a loop, with integer and float steps', () => {
    assert.deepEqual(T.arange(5).toArray(), [0, 1, 2, 3, 4]);
    assert.equal(T.arange(5).dtype, 'int64');
    assert.deepEqual(T.arange(1, 10, 3).toArray(), [1, 4, 7]);
    const f = T.arange(0, 1, 0.25).toArray();
    assert.deepEqual(f, [0, 0.25, 0.5, 0.75]);
  });

  it('randn is seeded: same seed, same numbers; moments near N(0, 1)', () => {
    T.manualSeed(123);
    const a = T.randn([10000]).toArray();
    T.manualSeed(123);
    const b = T.randn([10000]).toArray();
    assert.deepEqual(a, b);
    const mean = a.reduce((s, v) => s + v, 0) / a.length;
    const variance = a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length;
    assert.ok(Math.abs(mean) < 0.05, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  });

  it('uniform stays inside [low, high) and covers it', () => {
    T.manualSeed(1);
    const u = T.uniform([5000], -2, 3).toArray();
    assert.ok(u.every((v) => v >= -2 && v < 3));
    assert.ok(Math.min(...u) < -1.9 && Math.max(...u) > 2.9);
  });

  it('the RNG state can be saved and restored', () => {
    T.manualSeed(5);
    const state = T.getRngState();
    const first = T.randn([4]).toArray();
    T.randn([100]);
    T.setRngState(state);
    assert.deepEqual(T.randn([4]).toArray(), first);
  });

  it('cuda works where compiled in, and is a clear error where not', () => {
    if (T.cudaAvailable()) {
      const x = T.ones([2], { device: 'cuda' });
      assert.match(x.device, /^cuda/);
      assert.deepEqual(T.toDevice(T.add(x, x), 'cpu').toArray(), [2, 2]);
    } else {
      assert.throws(() => T.zeros([1], { device: 'cuda' }), /no CUDA support/);
      assert.throws(() => T.setDefaultDevice('cuda:0'), /no CUDA support/);
    }
    assert.throws(() => T.zeros([1], { device: 'tpu' }), /not valid/);
  });
});
