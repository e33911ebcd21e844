/**
 * Whole networks with sameConv2d's shortcut (taps that only read padding
 * skipped on small maps) against the same networks running every kernel in
 * full: the supernet (shared and untied cells) and a retrained network give
 * the same logits and gradients. Float64, so that a real difference is not
 * hidden by float32 rounding: what remains is summation order (the skipped
 * terms are zeros), amplified by batch norm over tiny maps to at most ~2e-9
 * relative here, where a dropped tap that touched data would be of order 1.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { resolveSearchConfig } from '../../src/search/search_config';
import { Supernet } from '../../src/search/supernet';
import { buildModel } from '../../src/model/presets';
import { archStep, weightStep } from '../../src/search/architect';

function maxRelDiff(a: number[], b: number[]): number {
  let [scale, diff] = [1e-6, 0];
  for (let i = 0; i < b.length; i++) [scale, diff] = [Math.max(scale, Math.abs(b[i])), Math.max(diff, Math.abs(a[i] - b[i]))];
  return diff / scale;
}

/** Logits and every parameter's gradient (flattened, in order) with the shortcut on or off. */
function logitsAndGrads(forward: () => T.Tensor, params: T.Tensor[], r: T.Tensor, shortcut: boolean): number[][] {
  T.setSameConvShortcuts(shortcut);
  try {
    return T.tidy(() => {
      const logits = forward();
      const grads = T.grad(T.sum(T.mul(logits, r)), params, { allowUnused: true });
      return [logits.toArray(), ...grads.map((g) => (g ? g.toArray() : []))];
    });
  } finally {
    T.setSameConvShortcuts(true);
  }
}

function assertSame(on: number[][], off: number[][]): void {
  assert.equal(on.length, off.length);
  on.forEach((v, i) => assert.ok(v.length === 0 || maxRelDiff(v, off[i]) < 1e-7, `${i === 0 ? 'logits' : `gradient ${i - 1}`} differ by ${maxRelDiff(v, off[i])}`));
}

describe('sameConv2d shortcut in whole networks', () => {
  for (const untiedCells of [false, true]) it(`supernet (untied cells: ${untiedCells}): same logits and gradients at crop 33 (maps down to 2x2)`, () => {
    T.setDefaultFloatDType('float64');
    try {
      T.manualSeed(3);
      const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2, untiedCells });
      const net = new Supernet(cfg, { archInitScale: 0.5 });
      const x = T.randn([2, 3, 33, 33]).keep();
      const r = T.randn([2, 3, 33, 33]).keep();
      const params = [...net.weights.parameters(), net.alpha, net.beta];
      assertSame(logitsAndGrads(() => net.forward(x, true), params, r, true), logitsAndGrads(() => net.forward(x, true), params, r, false));
      T.dispose([x, r]);
    } finally {
      T.setDefaultFloatDType('float32');
    }
  });

  it('retrained network (released cells and path, ASPP at rates 12/24/36 on a 6x6 map): same logits and gradients', () => {
    T.setDefaultFloatDType('float64');
    try {
      T.manualSeed(4);
      const model = buildModel({ filterMultiplier: 2, numClasses: 3 });
      const x = T.randn([2, 3, 41, 41]).keep();
      const r = T.randn([2, 3, 41, 41]).keep();
      const params = model.weights.parameters();
      assertSame(logitsAndGrads(() => model.forward(x, true), params, r, true), logitsAndGrads(() => model.forward(x, true), params, r, false));
      T.dispose([x, r]);
    } finally {
      T.setDefaultFloatDType('float32');
    }
  });

  it('a short search (float64, 3 iterations of weight and architecture steps) gives the same losses and genotype', () => {
    T.setDefaultFloatDType('float64');
    const run = (shortcut: boolean) => {
      T.setSameConvShortcuts(shortcut);
      try {
        T.manualSeed(5);
        const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2 });
        const net = new Supernet(cfg, { archInitScale: 0.5 });
        const wOpt = new T.SGD(net.weights.parameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
        const aOpt = new T.Adam(net.archParameters(), { lr: 3e-3, weightDecay: 1e-3 });
        const losses: number[] = [];
        for (let i = 0; i < 3; i++) {
          T.manualSeed(100 + i);
          const batch = () => ({ images: T.randn([2, 3, 33, 33]), labels: T.randint(0, 3, [2, 33, 33]) });
          losses.push(T.tidy(() => weightStep(net, wOpt, batch(), 0)));
          losses.push(T.tidy(() => archStep(net, aOpt, batch())));
        }
        return { losses, genotype: JSON.stringify(net.genotype()), alpha: net.alpha.toArray() };
      } finally {
        T.setSameConvShortcuts(true);
      }
    };
    try {
      const [on, off] = [run(true), run(false)];
      // Rounding-level differences (4e-16 at the first loss) grow about 15x per step through batch norm on
      // 2x2 maps (measured: 1e-10 after 2.5 iterations, 1e-5 after 6): a wrong tap would differ at once.
      assert.ok(Math.abs(on.losses[0] - off.losses[0]) / off.losses[0] < 1e-13, `first loss differs by ${on.losses[0] - off.losses[0]}`);
      assert.ok(maxRelDiff(on.losses, off.losses) < 1e-7, `losses differ by ${maxRelDiff(on.losses, off.losses)}`);
      assert.ok(maxRelDiff(on.alpha, off.alpha) < 1e-7, `alpha differs by ${maxRelDiff(on.alpha, off.alpha)}`);
      assert.equal(on.genotype, off.genotype);
    } finally {
      T.setDefaultFloatDType('float32');
    }
  });
});
