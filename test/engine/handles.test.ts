/**
 * The JS side of a handle: the metadata the addon writes with each result
 * (native.ts, newMeta) against meta() read afterwards, and the finalizer that
 * frees what no scope owns, on a real garbage collection.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as T from '../../src/engine';
import { dtypeOfScalarType } from '../../src/engine/dtype';
import { native } from '../../src/engine/native';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** What meta() reads now. */
function read(t: T.Tensor): { shape: number[]; dtype: string; device: string } {
  const [scalarType, device, , ...shape] = native.meta(t.id);
  return { shape, dtype: dtypeOfScalarType(scalarType), device };
}

/** Runs body counting meta() calls. */
function metaCalls(body: () => void): number {
  const original = native.meta;
  let calls = 0;
  native.meta = (h) => {
    calls++;
    return original(h);
  };
  try {
    body();
  } finally {
    native.meta = original;
  }
  return calls;
}

describe('handles', () => {
  it('a result carries its metadata: shape, dtype and device equal meta(), without calling it', () => {
    T.tidy(() => {
      const x = T.randn([2, 3, 4, 5]);
      const w = T.randn([6, 3, 3, 3]).setRequiresGrad();
      const cases: [string, () => T.Tensor, number[], string][] = [
        ['add', () => T.add(x, x), [2, 3, 4, 5], 'float32'],
        ['reshape (a view)', () => T.reshape(x, [6, 20]), [6, 20], 'float32'],
        ['conv2d of a leaf that requires grad', () => T.conv2d(x, w, { padding: 1 }), [2, 6, 4, 5], 'float32'],
        ['sum to a scalar', () => T.sum(x), [], 'float32'],
        ['argmax (int64)', () => T.argmax(x, 1), [2, 4, 5], 'int64'],
        ['float64', () => T.cast(x, 'float64'), [2, 3, 4, 5], 'float64'],
      ];
      for (const [name, make, shape, dtype] of cases) {
        let t: T.Tensor | undefined;
        assert.equal(metaCalls(() => {
          t = make();
          assert.deepEqual([t.shape, t.dtype, t.device], [shape, dtype, 'cpu'], name);
        }), 0, `${name}: meta() was called`);
        assert.deepEqual(read(t!), { shape, dtype, device: 'cpu' }, name);
      }
      // requiresGrad is always read afresh (setRequiresGrad changes it), from meta().
      assert.equal(T.conv2d(x, w).requiresGrad, true);
      assert.equal(T.add(x, 1).requiresGrad, false);
    });
  });

  it('a result of more dimensions than the buffer holds reads meta() instead', () => {
    T.tidy(() => {
      const shape = [...Array<number>(60).fill(1), 2];
      let t: T.Tensor | undefined;
      const calls = metaCalls(() => {
        t = T.reshape(T.ones([2]), shape);
        assert.deepEqual(t.shape, shape);
      });
      assert.equal(calls, 1);
      assert.deepEqual(read(t!).shape, shape);
    });
  });

  it('tensors of a list result, and handles made elsewhere, read their own metadata', () => {
    T.tidy(() => {
      const parts = T.split(T.randn([5, 4]), 2, 0);
      assert.deepEqual(parts.map((p) => p.shape), [[2, 4], [2, 4], [1, 4]]);
      const w = T.randn([3, 2]).setRequiresGrad();
      T.backward(T.sum(T.mul(w, w)));
      assert.deepEqual(w.grad!.shape, [3, 2]);
    });
  });

  it('what no scope owns is freed when it is garbage collected; a scope frees the rest itself', async () => {
    const before = T.memory().numTensors;
    // Results that leave the outermost scope, tensors made outside any scope, and kept ones: the finalizer's.
    (() => {
      T.tidy(() => T.add(T.ones([3]), 1));
      T.ones([4]);
      T.tidy(() => {
        T.zeros([2]).keep();
      });
    })();
    assert.equal(T.memory().numTensors, before + 3);
    // One a scope owns is not registered (registering and unregistering cost about 1 us a tensor).
    T.tidy(() => assert.equal((T.ones([1]) as unknown as { registered: boolean }).registered, false));
    for (let i = 0; i < 10 && T.memory().numTensors > before; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(T.memory().numTensors, before, 'the finalizer did not free them');
  });

  it('a tensor a scope frees, or one disposed by hand, is not freed again by the finalizer', async () => {
    const freed: number[] = [];
    const original = native.free;
    native.free = (h) => {
      freed.push(h);
      return original(h);
    };
    try {
      const handles: number[] = [];
      (() => {
        const kept = T.ones([2]).keep();
        const survivor = T.tidy(() => T.tidy(() => T.add(kept, 1)));
        handles.push(survivor.id, kept.id);
        survivor.dispose();
        kept.dispose();
        T.tidy(() => {
          handles.push(T.mul(T.ones([2]), 2).id);
        });
      })();
      assert.deepEqual(freed, handles.slice(0, 2), 'dispose() frees with free(); the scope frees in one freeMany()');
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // The finalizer frees with native.free: a registration left behind by dispose() would free a handle twice.
      assert.deepEqual(freed, handles.slice(0, 2), 'the finalizer freed a disposed tensor again');
    } finally {
      native.free = original;
    }
  });
});
