/** Scopes free what they should, and a long training loop keeps RSS flat. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';

describe('memory scopes', () => {
  it('tidy frees intermediates, keeps results and kept tensors', () => {
    const before = T.memory().numTensors;
    const kept = T.ones([2]).keep();
    const out = T.tidy(() => {
      const a = T.add(kept, 1);
      const b = T.mul(a, a);
      T.exp(b); // dropped
      return { b, list: [T.relu(b)] };
    });
    assert.equal(T.memory().numTensors, before + 3);
    assert.deepEqual(out.b.toArray(), [4, 4]);
    T.dispose([out, kept]);
    assert.equal(T.memory().numTensors, before);
  });

  it('nested scopes hand results to the enclosing scope', () => {
    const before = T.memory().numTensors;
    T.tidy(() => {
      const inner = T.tidy(() => T.add(T.ones([1]), 1));
      assert.equal(inner.isDisposed, false);
      return undefined;
    });
    assert.equal(T.memory().numTensors, before);
  });

  it('a throwing scope still frees what it made', () => {
    const before = T.memory().numTensors;
    assert.throws(() => T.tidy(() => {
      T.ones([3]);
      throw new Error('boom');
    }), /boom/);
    assert.equal(T.memory().numTensors, before);
    assert.equal(T.scopeDepth(), 0);
  });

  it('2,000 training steps inside scopes keep tensor count and RSS flat', () => {
    T.manualSeed(0);
    T.setNumThreads(1);
    const w1 = T.mul(T.randn([8, 3, 3, 3]), 0.3).keep().setRequiresGrad(true);
    const w2 = T.mul(T.randn([4, 8, 3, 3]), 0.3).keep().setRequiresGrad(true);
    const gamma = T.ones([8]).keep().setRequiresGrad(true);
    const beta = T.zeros([8]).keep().setRequiresGrad(true);
    const rm = T.zeros([8]).keep();
    const rv = T.ones([8]).keep();
    const opt = new T.SGD([w1, w2, gamma, beta], { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
    const x = T.randn([4, 3, 12, 12]).keep();
    const y = T.randint(0, 4, [4, 12, 12]).keep();
    const step = () => T.tidy(() => {
      opt.zeroGrad();
      let h = T.conv2d(x, w1, { padding: 1 });
      h = T.relu(T.batchNorm(h, { weight: gamma, bias: beta, runningMean: rm, runningVar: rv, training: true }));
      const logits = T.conv2d(h, w2, { padding: 1 });
      const loss = T.crossEntropy(logits, y);
      T.backward(loss);
      opt.step();
      return loss.item();
    });
    const losses: number[] = [];
    for (let i = 0; i < 200; i++) losses.push(step());
    const count = T.memory().numTensors;
    const rssWarm = process.memoryUsage().rss;
    for (let i = 0; i < 1800; i++) losses.push(step());
    const rssEnd = process.memoryUsage().rss;
    assert.equal(T.memory().numTensors, count, 'live tensors grew');
    assert.ok(rssEnd <= rssWarm * 1.1, `RSS grew from ${(rssWarm / 2 ** 20).toFixed(1)} MB to ${(rssEnd / 2 ** 20).toFixed(1)} MB`);
    assert.ok(losses[1999] < losses[0] * 0.5, `loss did not fall: ${losses[0]} -> ${losses[1999]}`);
    T.setNumThreads(2);
  });
});
