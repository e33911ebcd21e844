/**
 * The batched supernet computes the same function as the plain one (three
 * weight-shared cells per node, each edge and op on its own) on the same
 * weights: outputs and every gradient (weights, alpha, beta) agree.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { resolveSearchConfig } from '../../src/search/config';
import { CellImpl, Supernet } from '../../src/search/supernet';

function maxRelDiff(a: number[], b: number[]): number {
  const scale = Math.max(1e-6, ...b.map(Math.abs));
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

describe('batched cell = plain cell on shared weights', () => {
  it('same logits and same gradients for weights, alpha and beta', () => {
    T.manualSeed(1);
    const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2 });
    const net = new Supernet(cfg, 0.5); // large arch init so that every op weight matters
    const x = T.randn([2, 3, 33, 33]).keep();
    const r = T.randn([2, 3, 33, 33]).keep();
    const params = [...net.weights.parameters(), net.alpha, net.beta];
    const run = (impl: CellImpl) => T.tidy(() => {
      const logits = net.forward(x, true, impl);
      const grads = T.grad(T.sum(T.mul(logits, r)), params, { allowUnused: true });
      return { logits: logits.toArray(), grads: grads.map((g) => (g ? g.toArray() : null)) };
    });
    const batched = run('batched');
    const plain = run('plain');
    assert.ok(maxRelDiff(batched.logits, plain.logits) < 1e-4, `logits differ by ${maxRelDiff(batched.logits, plain.logits)}`);
    const names = [...net.weights.namedParameters().map(([n]) => n), 'alpha', 'beta'];
    let compared = 0;
    plain.grads.forEach((g, i) => {
      const b = batched.grads[i];
      assert.equal(b === null, g === null, `${names[i]}: gradient present in one implementation only`);
      if (!g || !b) return;
      const d = maxRelDiff(b, g);
      assert.ok(d < 2e-3, `${names[i]}: gradients differ by ${d}`);
      compared++;
    });
    assert.ok(compared > 100, `compared only ${compared} gradients`);
    net.dispose();
    T.dispose([x, r]);
  });
});
