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
import { resolveSearchConfig } from '../../src/search/config';
import { Supernet } from '../../src/search/supernet';
import { buildModel } from '../../src/model/presets';

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
});
