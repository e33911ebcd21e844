/**
 * Every architecture the model registry can build (each preset of PRESETS and
 * a searched genotype) survives a training step: finite logits of the right
 * shape, a finite, non-zero gradient on every parameter, and no tensor leaked
 * by forward + backward + SGD step inside T.tidy.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { buildModel, BuildOptions, PRESETS } from '../../src/model/presets';
import { AutoDeepLab } from '../../src/model/network';
import { validateGenotype } from '../../src/arch/genotype_file';

/**
 * A searched genotype as `search` writes it (with its metadata), chosen to
 * cover what the released cell does not: both pools and skip, each also
 * reading a cell input at stride 2, an identity skip between blocks, and a
 * path up to output stride 32 and back down to 4 (bilinear x2 before a cell).
 */
const SEARCHED = validateGenotype(JSON.parse(JSON.stringify({
  version: 1,
  cell: {
    blocks: [
      [{ input: 'prevPrev', op: 'maxpool3x3' }, { input: 'prev', op: 'skip' }],
      [{ input: 'prev', op: 'avgpool3x3' }, { input: 'block0', op: 'sep3x3' }],
      [{ input: 'prevPrev', op: 'atrous3x3' }, { input: 'block1', op: 'skip' }],
      [{ input: 'block0', op: 'sep5x5' }, { input: 'block2', op: 'atrous5x5' }],
      [{ input: 'prev', op: 'atrous5x5' }, { input: 'block3', op: 'maxpool3x3' }],
    ],
  },
  path: [0, 1, 2, 3, 3, 2, 1, 0],
  search: { epoch: 6, note: 'hand-written in the format of genotype.json' },
})), 'registry test genotype');

const CLASSES = 5;
const [BATCH, SIZE] = [2, 65]; // batch 2: the ASPP image-pooling BN sees one value per sample

/** What the registry builds: every preset at its own F (Table 2), and the searched genotype at F = 4. */
const ENTRIES: [string, BuildOptions][] = [
  ...Object.keys(PRESETS).map((arch): [string, BuildOptions] => [arch, { arch, numClasses: CLASSES, dropPathKeep: 0.8 }]),
  ['searched genotype (F=4)', { genotype: SEARCHED, filterMultiplier: 4, numClasses: CLASSES, dropPathKeep: 0.8 }],
];

/**
 * One SGD training step inside T.tidy, as the trainer does it; check(logits)
 * runs after backward, while the logits and the gradients are still live.
 */
function trainStep(m: AutoDeepLab, opt: T.SGD, x: T.Tensor, y: T.Tensor, dropPathProgress: number, check?: (logits: T.Tensor) => void): number {
  return T.tidy(() => {
    opt.zeroGrad();
    const logits = m.forward(x, true, { dropPathProgress });
    const loss = T.crossEntropy(logits, y, { ignoreIndex: 255 });
    T.backward(loss);
    check?.(logits);
    opt.step();
    opt.zeroGrad();
    return loss.item();
  });
}

/** 0 * x sums to NaN exactly when x holds a NaN or an infinity. */
const allFinite = (t: T.Tensor): boolean => !Number.isNaN(T.sum(T.mul(t, 0)).item());

/** What is wrong with the gradients: none, NaN/Inf, or all zero (a parameter cut off from the loss). */
function gradientProblems(m: AutoDeepLab): string[] {
  const problems: string[] = [];
  for (const [name, p] of m.weights.namedParameters()) {
    const g = p.grad;
    if (!g) problems.push(`${name}: no gradient`);
    else if (!allFinite(g)) problems.push(`${name}: NaN/Inf gradient`);
    else if (T.max(g).item() === 0 && T.min(g).item() === 0) problems.push(`${name}: all-zero gradient`);
  }
  return problems;
}

describe('model registry: every preset and a searched genotype', () => {
  for (const [name, options] of ENTRIES) {
    it(`${name}: forward, backward, finite non-zero gradients on every parameter, no leaked tensor`, () => {
      T.manualSeed(0);
      const m = buildModel(options);
      const x = T.randn([BATCH, 3, SIZE, SIZE]).keep();
      const y = T.randint(0, CLASSES, [BATCH, SIZE, SIZE]).keep();
      const opt = new T.SGD(m.weights.parameters(), { lr: 1e-3, momentum: 0.9 });
      // Progress 0: drop path is off, so every parameter must receive a non-zero gradient.
      let problems: string[] = [];
      const loss = trainStep(m, opt, x, y, 0, (logits) => {
        assert.deepEqual(logits.shape, [BATCH, CLASSES, SIZE, SIZE]);
        assert.ok(allFinite(logits), 'logits hold NaN or Inf');
        problems = gradientProblems(m);
      });
      assert.ok(Number.isFinite(loss), `loss ${loss}`);
      assert.deepEqual(problems, []);
      // The first step made the momentum buffers; a second one (drop path on) must leave the live count as it was.
      const before = T.memory().numTensors;
      const loss2 = trainStep(m, opt, x, y, 1);
      assert.equal(T.memory().numTensors, before, 'a training step leaked tensors');
      assert.ok(Number.isFinite(loss2), `loss after one step ${loss2}`);
      T.dispose([x, y, opt.stateDict().tensors]);
      m.weights.dispose();
    });
  }
});
