/** Run folders written by hand for the report tests: a search trial, its retraining, a comparison. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Genotype } from '../../src/arch/genotype';
import { Comparison, COMPARISON_FILE } from '../../src/train/baseline';
import { DEFAULT_TRAIN_CONFIG } from '../../src/train/train_config';

export type Budget = { limit: number; unit: 'multiAdds' | 'ms'; size: [number, number]; filterMultiplier: number; weight: number };

/**
 * A search run DIR/trial-<seed>: config.json (epochs: o.epochs or one per
 * mIoU, plus o.config and the budget), one epoch line per mIoU value with
 * the genotype and, under a budget, the logged cost.
 */
export function fakeTrial(dir: string, seed: number, mIoU: number[], g: Genotype,
  o: { epochs?: number; config?: Record<string, unknown>; budget?: Budget; loggedCost?: number } = {}): string {
  const d = path.join(dir, `trial-${seed}`);
  fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ epochs: o.epochs ?? mIoU.length, seed, layers: g.path.length, ...o.config, ...(o.budget ? { budget: o.budget } : {}) }));
  const budgetLine = o.budget ? { budget: { limit: o.budget.limit, unit: o.budget.unit, expected: 0, cost: o.loggedCost ?? 0 } } : {};
  const lines = mIoU.map((v, e) => JSON.stringify({ type: 'epoch', epoch: e, iteration: e + 1, mIoU: v, genotype: g, ...budgetLine }));
  fs.writeFileSync(path.join(d, 'metrics.jsonl'), lines.join('\n') + '\n');
  return d;
}

/** A finished retraining of a trial: the model file and two validation lines, the last at mIoU. */
export function fakeRetrain(trialDir: string, mIoU: number): void {
  const d = path.join(trialDir, 'retrain');
  fs.mkdirSync(d);
  fs.writeFileSync(path.join(d, 'model.safetensors'), '');
  fs.writeFileSync(path.join(d, 'metrics.jsonl'), `${JSON.stringify({ type: 'validation', iteration: 5, mIoU: 0.01 })}\n${JSON.stringify({ type: 'validation', iteration: 10, mIoU })}\n`);
}

/** A compare folder: comparison.json of the searched genotype and random ones at the given mIoU. */
export function fakeComparison(dir: string, entries: [string, Genotype, number][], classes: string[], seeds = [0]): void {
  fs.mkdirSync(dir, { recursive: true });
  const c: Comparison = {
    version: 1, sampleSeed: seeds[0], train: { ...DEFAULT_TRAIN_CONFIG, iterations: 100 }, filterMultiplier: 8, evalImages: 24,
    randomMode: 'equal-cost', costBand: 0.05, seeds,
    entries: seeds.flatMap((seed, s) => entries.map(([name, genotype, mIoU], i) => ({
      name, kind: i === 0 ? 'searched' as const : 'random' as const, genotype, mIoU: mIoU + 0.01 * s * (i === 0 ? 1 : -1), pixelAccuracy: 0.5 + mIoU / 2,
      perClassIoU: Object.fromEntries(classes.map((k, j) => [k, j === 1 && i > 0 ? null : mIoU])), seed, multiAdds: 1e9 * (1 + 0.01 * i),
    }))),
  };
  fs.writeFileSync(path.join(dir, COMPARISON_FILE), JSON.stringify(c));
}
