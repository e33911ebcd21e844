/**
 * The fused supernet computes the same function as the reference one (the
 * op-by-op cells of search/reference, DARTS' MixedOp) on the same weights:
 * logits and every gradient (weights, alpha, beta) agree, and the weight map
 * covers every fused weight exactly once. For shared and untied cells, with
 * one alpha and with alpha per layer. In float64: float32 rounding alone moves
 * some weight gradients by up to 1% here (BN over 2x2 maps of 2 images), and
 * would hide a real difference of that size.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { resolveSearchConfig } from '../../src/search/search_config';
import { fusedSlice, loadFusedWeights } from '../../src/search/reference/reference_network';
import { referenceSupernet } from '../../src/search/reference/reference_network';
import { Supernet } from '../../src/search/supernet';

function maxRelDiff(a: number[], b: number[]): number {
  const scale = Math.max(1e-6, ...b.map(Math.abs));
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

const VARIANTS = [
  { untiedCells: false, alphaPerLayer: false },
  { untiedCells: true, alphaPerLayer: false },
  { untiedCells: false, alphaPerLayer: true },
  { untiedCells: true, alphaPerLayer: true },
];

describe('fused supernet = reference supernet on the same weights', () => {
  for (const variant of VARIANTS) it(`same logits and same gradients for weights, alpha and beta (${JSON.stringify(variant)})`, () => {
    T.setDefaultFloatDType('float64');
    T.manualSeed(1);
    const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2, ...variant });
    const fused = new Supernet(cfg, { archInitScale: 0.5 }); // large arch init so that every op weight matters
    const reference = referenceSupernet(cfg);
    const pairs = loadFusedWeights(fused, reference);
    // Every fused weight element is held by exactly one reference weight.
    const covered = new Map<T.Tensor, number>();
    for (const p of pairs) covered.set(p.fused, (covered.get(p.fused) ?? 0) + p.reference.size);
    for (const [name, t] of fused.weights.namedParameters()) assert.equal(covered.get(t), t.size, `${name}: covered ${covered.get(t) ?? 0} of ${t.size}`);
    assert.equal(pairs.length, reference.weights.parameters().length);

    const x = T.randn([2, 3, 33, 33]).keep();
    const r = T.randn([2, 3, 33, 33]).keep();
    const run = (net: Supernet) => T.tidy(() => {
      const logits = net.forward(x, true);
      const params = [...net.weights.parameters(), net.alpha, net.beta];
      T.grad(T.sum(T.mul(logits, r)), params, { allowUnused: true }).forEach((g, i) => (params[i].grad = g));
      return logits.toArray();
    });
    const lf = run(fused);
    const lr = run(reference);
    assert.ok(maxRelDiff(lf, lr) < 1e-10, `logits differ by ${maxRelDiff(lf, lr)}`);
    let compared = 0;
    T.tidy(() => {
      for (const p of pairs) {
        const g = p.reference.grad;
        const f = p.fused.grad;
        assert.equal(g === null, f === null, `${p.name}: gradient present in one implementation only`);
        if (!g || !f) continue;
        const d = maxRelDiff(fusedSlice(p, f).toArray(), g.toArray());
        assert.ok(d < 1e-9, `${p.name}: gradients differ by ${d}`);
        compared++;
      }
      for (const k of ['alpha', 'beta'] as const) {
        const d = maxRelDiff(fused[k].grad!.toArray(), reference[k].grad!.toArray());
        assert.ok(d < 1e-9, `${k}: gradients differ by ${d}`);
      }
    });
    assert.ok(compared > (variant.untiedCells ? 250 : 100), `compared only ${compared} gradients`);
    if (variant.alphaPerLayer) assert.deepEqual(fused.alpha.shape.slice(0, 1), [cfg.layers]);
    fused.dispose();
    reference.dispose();
    T.dispose([x, r]);
    T.setDefaultFloatDType('float32');
  });
});
