/** The retrained network: released sizes, genotype = preset, drop path. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { countCost } from '../../src/model/cost';
import { dropPath } from '../../src/model/cell';
import { buildModel } from '../../src/model/presets';
import { loadGenotype } from '../../src/arch/genotype_file';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';

describe('Auto-DeepLab presets', () => {
  // Table 2 (params) and docs/reference.md (plain conv multiply-accumulates at 1024x2048).
  const expected = [
    ['autodeeplab-s', 10.15e6, 315.14e9],
    ['autodeeplab-m', 21.62e6, 431.00e9],
    ['autodeeplab-l', 44.42e6, 647.08e9],
  ] as const;
  for (const [arch, params, macs] of expected) {
    it(`${arch}: parameters and Multi-Adds at 1024x2048 within 1% of the paper`, () => {
      const m = buildModel({ arch, numClasses: 19 });
      const c = countCost(m, 1024, 2048);
      assert.ok(Math.abs(c.params / params - 1) < 0.01, `params ${c.params}`);
      assert.ok(Math.abs(c.multiAdds / macs - 1) < 0.01, `multi-adds ${c.multiAdds}`);
      assert.equal(c.params, m.weights.count());
      assert.deepEqual(Object.keys(c.parts).sort(), ['aspp', 'cells', 'decoder', 'stem']);
      const sum = Object.values(c.parts).reduce((s, p) => s + p.multiAdds, 0);
      assert.equal(sum, c.multiAdds);
      m.weights.dispose();
    });
  }

  it('the counter follows the class count and the input size', () => {
    const m19 = buildModel({ arch: 'autodeeplab-s', numClasses: 19 });
    const m21 = buildModel({ arch: 'autodeeplab-s', numClasses: 21 });
    assert.equal(m21.weights.count() - m19.weights.count(), 2 * 257); // two more logits rows, with bias
    const big = countCost(m19, 1024, 2048).multiAdds;
    const small = countCost(m19, 512, 1024).multiAdds;
    assert.ok(small < big / 3.5 && small > big / 4.5, `${small} vs ${big}`);
    m19.weights.dispose();
    m21.weights.dispose();
  });

  it('the preset and the same architecture as a genotype file build the same network', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-model-'));
    const file = path.join(dir, 'genotype.json');
    fs.writeFileSync(file, JSON.stringify({ ...AUTO_DEEPLAB_GENOTYPE, search: { epoch: 3 } }));
    T.manualSeed(0);
    const preset = buildModel({ arch: 'autodeeplab-s', numClasses: 5 });
    T.manualSeed(1);
    const fromFile = buildModel({ genotype: loadGenotype(file), filterMultiplier: 20, numClasses: 5 });
    assert.equal(fromFile.weights.count(), preset.weights.count());
    assert.deepEqual(fromFile.weights.namedParameters().map(([n, p]) => [n, p.shape]), preset.weights.namedParameters().map(([n, p]) => [n, p.shape]));
    fromFile.weights.loadStateDict(preset.weights.stateDict());
    const x = T.randn([1, 3, 65, 65]).keep();
    const [a, b] = [preset, fromFile].map((m) => T.noGrad(() => T.tidy(() => m.forward(x, false).toArray())));
    assert.deepEqual(a, b);
    T.dispose([x]);
    preset.weights.dispose();
    fromFile.weights.dispose();
    fs.rmSync(dir, { recursive: true });
  });

  it('a genotype whose path never visits stride 4 after the stem takes low-level features from the stem', () => {
    const g = { ...AUTO_DEEPLAB_GENOTYPE, path: [1, 2, 2, 1] as const };
    const m = buildModel({ genotype: g as never, filterMultiplier: 4, numClasses: 3 });
    const y = T.noGrad(() => T.tidy(() => m.forward(T.randn([1, 3, 40, 40]), false).shape));
    assert.deepEqual(y, [1, 3, 40, 40]);
    m.weights.dispose();
  });
});

describe('scheduled drop path', () => {
  it('keep probability per cell and step follows 1 - (cell+1)/cells * (1 - p) * progress', () => {
    const m = buildModel({ arch: 'autodeeplab-s', numClasses: 3, dropPathKeep: 0.7 });
    for (const progress of [0, 0.25, 1, 2]) {
      for (const cell of [0, 5, 11]) {
        const want = 1 - ((cell + 1) / 12) * 0.3 * Math.min(1, progress);
        assert.ok(Math.abs(m.keepProbability(cell, progress) - want) < 1e-12);
      }
    }
    assert.equal(m.keepProbability(11, 1), 0.7);
    assert.equal(m.keepProbability(0, 0), 1);
    m.weights.dispose();
  });

  it('masks whole samples, rescales by 1/keep, and is off in evaluation', () => {
    T.manualSeed(3);
    const y = T.tidy(() => dropPath(T.ones([4000, 2, 1, 1]), 0.6).toArray());
    const perSample = Array.from({ length: 4000 }, (_, i) => [y[2 * i], y[2 * i + 1]]);
    assert.ok(perSample.every(([a, b]) => a === b && (a === 0 || Math.abs(a - 1 / 0.6) < 1e-6)));
    const kept = perSample.filter(([a]) => a > 0).length / 4000;
    assert.ok(Math.abs(kept - 0.6) < 0.03, `kept ${kept}`);
    const m = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: 3, dropPathKeep: 0.5 });
    const x = T.randn([2, 3, 33, 33]).keep();
    const evalRuns = [1, 2].map((seed) => { T.manualSeed(seed); return T.noGrad(() => T.tidy(() => m.forward(x, false).toArray())); });
    assert.deepEqual(evalRuns[0], evalRuns[1]);
    const trainRuns = [1, 2].map((seed) => { T.manualSeed(seed); return T.noGrad(() => T.tidy(() => m.forward(x, true).toArray())); });
    assert.notDeepEqual(trainRuns[0], trainRuns[1]);
    T.dispose([x]);
    m.weights.dispose();
  });
});

describe('forward seam (forwardFeatures / forwardHead) and the drop-path progress argument', () => {
  it('forward equals forwardHead(forwardFeatures(x)) bit for bit; the features sit at the path\'s last stride', () => {
    const m = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: 3, dropPathKeep: 0.5 });
    const x = T.randn([2, 3, 65, 65]).keep();
    for (const training of [false, true]) {
      const whole = T.noGrad(() => { T.manualSeed(7); return T.tidy(() => m.forward(x, training, { dropPathProgress: 0.5 }).toArray()); });
      const [parts, shapes] = T.noGrad(() => {
        T.manualSeed(7);
        return T.tidy(() => {
          const { features, lowLevel } = m.forwardFeatures(x, training, { dropPathProgress: 0.5 });
          return [m.forwardHead(features, lowLevel, [65, 65], training).toArray(), [features.shape, lowLevel.shape]];
        });
      });
      assert.deepEqual(parts, whole);
      // Path ends at level 1 (stride 8: 65 -> 9 after 33, 17, 9); B * F * 2 = 20 channels. Low level: cell 2, stride 4, B * F = 10.
      assert.deepEqual(shapes, [[2, 20, 9, 9], [2, 10, 17, 17]]);
    }
    T.dispose([x]);
    m.weights.dispose();
  });

  it('dropPathProgress is honoured: 0 drops nothing, the default (1) drops at the full rate', () => {
    const m = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: 3, dropPathKeep: 0.5 });
    const x = T.randn([2, 3, 33, 33]).keep();
    const run = (seed: number, opts?: { dropPathProgress: number }) => { T.manualSeed(seed); return T.noGrad(() => T.tidy(() => m.forward(x, true, opts).toArray())); };
    assert.deepEqual(run(1, { dropPathProgress: 0 }), run(2, { dropPathProgress: 0 })); // no mask drawn
    assert.notDeepEqual(run(1, { dropPathProgress: 1 }), run(2, { dropPathProgress: 1 }));
    assert.deepEqual(run(1), run(1, { dropPathProgress: 1 }));
    assert.equal('progress' in m, false, 'no training state is kept in the model');
    T.dispose([x]);
    m.weights.dispose();
  });
});
