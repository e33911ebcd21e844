/**
 * Recomputing activations layer by layer (and updating each layer as soon as
 * its gradients are complete) gives the same step as the plain backward pass.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { archStep, weightStep } from '../../src/search/architect';
import { resolveSearchConfig } from '../../src/search/search_config';
import { Supernet } from '../../src/search/supernet';

function maxRelDiff(a: number[], b: number[]): number {
  const scale = Math.max(1e-6, ...b.map(Math.abs));
  return Math.max(0, ...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

function trainTwoIterations(recompute: boolean): { state: Record<string, number[]>; losses: number[] } {
  T.manualSeed(4);
  const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2 });
  const net = new Supernet(cfg, { archInitScale: 0.5, recompute });
  const wOpt = new T.SGD(net.weights.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 3e-4 });
  const aOpt = new T.Adam(net.archParameters(), { lr: 3e-3, weightDecay: 1e-3 });
  const losses: number[] = [];
  for (let i = 0; i < 2; i++) {
    T.tidy(() => {
      const batch = () => ({ images: T.randn([2, 3, 33, 33]), labels: T.randint(0, 3, [2, 33, 33]) });
      losses.push(weightStep(net, wOpt, batch(), 0));
      losses.push(archStep(net, aOpt, batch()));
    });
  }
  const state = Object.fromEntries([...Object.entries(net.weights.stateDict()), ['alpha', net.alpha], ['beta', net.beta]]
    .map(([k, t]) => [k, (t as T.Tensor).toArray()]));
  net.dispose();
  wOpt.dispose();
  aOpt.dispose();
  return { state, losses };
}

describe('gradient checkpointing in the search', () => {
  // float64: batch norm over tiny maps amplifies float32 rounding (summation order) into visible drift.
  it('weights, BN statistics, alpha and beta after two iterations equal those of the plain backward pass', () => {
    T.setDefaultFloatDType('float64');
    try {
      const plain = trainTwoIterations(false);
      const recomputed = trainTwoIterations(true);
      for (let i = 0; i < plain.losses.length; i++) assert.ok(Math.abs(plain.losses[i] - recomputed.losses[i]) < 1e-10, `loss ${i}`);
      for (const [name, v] of Object.entries(plain.state)) {
        const d = maxRelDiff(recomputed.state[name], v);
        assert.ok(d < 1e-9, `${name} differs by ${d}`);
      }
    } finally {
      T.setDefaultFloatDType('float32');
    }
  });
});
