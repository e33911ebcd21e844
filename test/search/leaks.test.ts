/**
 * A search iteration (weight step + architecture step) leaves no tensor
 * behind: the live tensor count is the same before and after, with the
 * recomputed backward pass and without it, fused and reference cells,
 * shared and untied cells, one alpha and alpha per layer.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { archStep, weightStep } from '../../src/search/architect';
import { resolveSearchConfig } from '../../src/search/search_config';
import { referenceSupernet } from '../../src/search/reference/reference_network';
import { Supernet } from '../../src/search/supernet';

const cfg = resolveSearchConfig({ layers: 3, blocks: 2, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2 });

function liveAfterIterations(net: Supernet, iterations: number, gradClip: number): number[] {
  const wOpt = new T.SGD(net.weights.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 });
  const aOpt = new T.Adam(net.archParameters(), { lr: 3e-3, weightDecay: 1e-3 });
  const counts: number[] = [];
  const images = T.randn([2, 3, 33, 33]).keep();
  const labels = T.randint(0, 3, [2, 33, 33]).keep();
  for (let i = 0; i < iterations; i++) {
    weightStep(net, wOpt, { images, labels }, gradClip);
    archStep(net, aOpt, { images, labels });
    counts.push(T.memory().numTensors);
  }
  T.dispose([images, labels]);
  wOpt.dispose();
  aOpt.dispose();
  return counts;
}

describe('search iterations do not leak tensors', () => {
  for (const [what, make, gradClip] of [
    ['fused, recomputed backward', () => new Supernet(cfg, { recompute: true }), 0],
    ['fused, kept activations', () => new Supernet(cfg, { recompute: false }), 0],
    ['fused, recomputed with gradient clipping', () => new Supernet(cfg, { recompute: true }), 5],
    ['reference cells, recomputed backward', () => referenceSupernet(cfg, { recompute: true }), 0],
    ['fused, untied cells and alpha per layer, recomputed backward', () => new Supernet({ ...cfg, untiedCells: true, alphaPerLayer: true }, { recompute: true }), 0],
    ['fused, untied cells and alpha per layer, kept activations', () => new Supernet({ ...cfg, untiedCells: true, alphaPerLayer: true }, { recompute: false }), 0],
  ] as [string, () => Supernet, number][]) {
    it(what, () => {
      T.manualSeed(3);
      const before = T.memory().numTensors;
      const net = make();
      // Optimiser state (momentum, Adam moments) appears at the first step; after that the count must not move.
      const counts = liveAfterIterations(net, 3, gradClip);
      assert.equal(counts[1], counts[0], `live tensors grew from ${counts[0]} to ${counts[1]}`);
      assert.equal(counts[2], counts[0], `live tensors grew from ${counts[0]} to ${counts[2]}`);
      net.dispose();
      assert.equal(T.memory().numTensors - before, 0, 'tensors left after dispose');
    });
  }
});
