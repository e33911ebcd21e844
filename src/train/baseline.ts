/**
 * Searched vs random (issue 12, item 7; issue 20): K architectures drawn from
 * the same space, by default uniformly among those whose exact Multi-Adds (the
 * retrained network at the training crop) lie within a band around the
 * searched one's (src/budget/equal_cost.ts), or uniformly over the whole space
 * (src/arch/random.ts); each retrained with exactly the searched one's
 * settings (model options, schedule, seed) and evaluated on the same held-out
 * images, so that the only difference is the architecture. Over several seeds
 * each seed draws its own random architectures and trains all with that seed.
 * Writes to `out`:
 *
 *   searched/, random-1/ .. random-K/   one training run each (resumable); seed-S/ each with several seeds
 *   comparison.json                      every architecture's genotype, cost and metrics
 *
 * A finished architecture (its model.safetensors and its entry) is not
 * retrained when the comparison is run again; an interrupted one resumes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellOfLayer, Genotype } from '../arch/genotype';
import { sampleGenotype } from '../arch/random';
import { genotypeCost, MultiAddsTable } from '../budget/cost_table';
import { equalCostSampler, equalCostSpace } from '../budget/equal_cost';
import { hashSeed } from '../data/builtin';
import { SegmentationDataset } from '../data/dataset';
import { evaluateDataset, EvaluationResult } from '../eval/evaluate';
import { loadModel } from '../model/saved';
import { ModelConfig } from '../model/network';
import { Rng } from '../util/random';
import { writeFileAtomic } from '../util/files';
import { TrainConfig } from './train_config';
import { runTraining, TrainRunOptions } from './trainer';
import { percent } from '../util/format';
import { pairedTest, spread } from '../util/paired';

export interface ComparisonEntry {
  name: string;
  kind: 'searched' | 'random';
  genotype: Genotype;
  mIoU: number;
  pixelAccuracy: number;
  perClassIoU: Record<string, number | null>;
  /** Training seed (and, for random entries, the draw's seed). */
  seed: number;
  /** Exact Multi-Adds of the retrained network at the training crop. */
  multiAdds: number;
}

/** How random architectures are drawn: within a cost band around the searched one, or over the whole space. */
export type RandomMode = 'equal-cost' | 'uniform';

export interface Comparison {
  version: 1;
  /** Seed of the random architectures (the training seed is train.seed, the same for all). */
  sampleSeed: number;
  train: TrainConfig;
  filterMultiplier: number;
  evalImages: number;
  randomMode: RandomMode;
  /** Relative half-width of the cost band (equal-cost mode). */
  costBand: number;
  /** Training seeds, in order. */
  seeds: number[];
  entries: ComparisonEntry[];
}

export const COMPARISON_FILE = 'comparison.json';

/** The table that costs a retrained network: F, B and classes of the comparison, at the training crop. */
export function comparisonCostTable(searched: Genotype, filterMultiplier: number, numClasses: number, crop: number): MultiAddsTable {
  return new MultiAddsTable({ filterMultiplier, blocks: cellOfLayer(searched, 0).blocks.length, numClasses, size: [crop, crop] });
}

/** K genotypes of the searched one's shape (blocks, layers) from `seed`: uniform over the space, or over the cost band around the searched one's. */
export function randomArchitectures(searched: Genotype, k: number, seed: number, mode: RandomMode = 'uniform', table?: MultiAddsTable, band = 0.05): Genotype[] {
  const rng = new Rng(hashSeed(seed, 0x7a4d0b));
  const shape = { blocks: cellOfLayer(searched, 0).blocks.length, layers: searched.path.length };
  if (mode === 'uniform' || k === 0) return Array.from({ length: k }, () => sampleGenotype(rng, shape));
  const sampler = equalCostSampler(equalCostSpace(table!, shape.layers), genotypeCost(table!, searched), band);
  return Array.from({ length: k }, () => sampler.draw(rng));
}

export interface ComparisonOptions {
  searched: Genotype;
  randomCount: number;
  randomMode: RandomMode;
  costBand: number;
  /** Seeds to train with (default [train.seed]); with more than one, OUT/seed-S/ holds each seed's runs. */
  seeds?: number[];
  /** The model of a genotype: every setting but the genotype the searched one's (modelConfig of src/model/presets). */
  modelOf: (g: Genotype) => ModelConfig;
  train: TrainConfig;
  dataset: SegmentationDataset;
  datasetSpec?: TrainRunOptions['datasetSpec'];
  valDataset: SegmentationDataset;
  out: string;
  /** Folder of the searched architecture's run (default OUT/searched). */
  searchedDir?: string;
  /** Called before each architecture is trained (index 0 is the searched one). */
  onStart?: (name: string, index: number, total: number) => TrainRunOptions['onIteration'];
  shouldStop?: () => boolean;
}

/** Trains (or reuses) each architecture at each seed and evaluates it; comparison.json is rewritten after each. */
export async function runComparison(o: ComparisonOptions): Promise<Comparison> {
  const file = path.join(o.out, COMPARISON_FILE);
  const fm = o.modelOf(o.searched).filterMultiplier;
  const seeds = o.seeds ?? [o.train.seed];
  const saved = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Comparison) : null;
  // Results of an earlier run are kept only when made with the same settings.
  const previous = saved && JSON.stringify(saved.train) === JSON.stringify(o.train) && saved.filterMultiplier === fm && saved.evalImages === o.valDataset.length ? saved : null;
  const table = comparisonCostTable(o.searched, fm, o.dataset.numClasses, o.train.crop);
  const result: Comparison = {
    version: 1, sampleSeed: seeds[0], train: o.train, filterMultiplier: fm, evalImages: o.valDataset.length,
    randomMode: o.randomMode, costBand: o.costBand, seeds, entries: [],
  };
  const archs = seeds.flatMap((seed) => [
    { name: 'searched', kind: 'searched' as const, genotype: o.searched, seed },
    ...randomArchitectures(o.searched, o.randomCount, seed, o.randomMode, table, o.costBand).map((genotype, i) => ({ name: `random-${i + 1}`, kind: 'random' as const, genotype, seed })),
  ]);
  for (const [index, { name, kind, genotype, seed }] of archs.entries()) {
    const folder = seeds.length > 1 ? path.join(o.out, `seed-${seed}`) : o.out;
    const dir = kind === 'searched' && o.searchedDir && seed === seeds[0] ? o.searchedDir : path.join(folder, name);
    const done = previous?.entries.find((e) => e.name === name && (e.seed ?? previous.sampleSeed) === seed && JSON.stringify(e.genotype) === JSON.stringify(genotype));
    if (done && fs.existsSync(path.join(dir, 'model.safetensors'))) {
      result.entries.push({ ...done, seed, multiAdds: genotypeCost(table, genotype) });
      continue;
    }
    const trained = await runTraining({
      model: o.modelOf(genotype), train: { ...o.train, seed }, dataset: o.dataset, datasetSpec: o.datasetSpec, out: dir,
      resume: fs.existsSync(path.join(dir, 'checkpoint.safetensors')) && !fs.existsSync(path.join(dir, 'model.safetensors')),
      shouldStop: o.shouldStop, onIteration: o.onStart?.(seeds.length > 1 ? `seed-${seed}/${name}` : name, index, archs.length),
    });
    trained.model.weights.dispose();
    if (!trained.completed) break;
    const r = await evaluateSaved(path.join(dir, 'model.safetensors'), o.valDataset);
    result.entries.push({ name, kind, genotype, mIoU: r.mIoU, pixelAccuracy: r.pixelAccuracy, perClassIoU: r.perClassIoU, seed, multiAdds: genotypeCost(table, genotype) });
    writeFileAtomic(file, JSON.stringify(result, null, 1) + '\n');
  }
  return result;
}

/** Single-scale metrics of a saved model on the held-out images (the quickstart's and eval's protocol). */
export async function evaluateSaved(modelFile: string, valDataset: SegmentationDataset): Promise<EvaluationResult> {
  const { model } = loadModel(modelFile);
  try {
    return await evaluateDataset((x) => model.forward(x, false), valDataset, { scales: [1], flip: false });
  } finally {
    model.weights.dispose();
  }
}

/** Per seed: the searched network's mIoU and the mean of that seed's random ones (seeds where both finished). */
export function pairedBySeed(c: Comparison): { seed: number; searched: number; random: number }[] {
  const seeds = c.seeds ?? [c.sampleSeed];
  return seeds.flatMap((seed) => {
    const at = c.entries.filter((e) => (e.seed ?? c.sampleSeed) === seed);
    const s = at.find((e) => e.kind === 'searched');
    const r = at.filter((e) => e.kind === 'random').map((e) => e.mIoU);
    return s && r.length ? [{ seed, searched: s.mIoU, random: r.reduce((a, b) => a + b, 0) / r.length }] : [];
  });
}

/** The comparison as printed text: one line per architecture with its cost and ratio to the searched one's, then the summary over seeds. */
export function formatComparison(c: Comparison): string {
  const searchedCost = c.entries.find((e) => e.kind === 'searched')?.multiAdds;
  const rows = c.entries.map((e) => `  ${(c.seeds && c.seeds.length > 1 ? `seed ${e.seed} ` : '') + e.name.padEnd(10)} mIoU ${percent(e.mIoU).padStart(7)}  pixel accuracy ${percent(e.pixelAccuracy)}` +
    `  ${(e.multiAdds / 1e9).toFixed(3)} B Multi-Adds${searchedCost ? ` (x${(e.multiAdds / searchedCost).toFixed(3)})` : ''}  path ${e.genotype.path.map((k) => 4 * 2 ** k).join(' ')}`);
  const draw = c.randomMode === 'uniform' ? 'uniform over the space' : `equal cost: Multi-Adds within ±${100 * c.costBand}% of the searched network's at crop ${c.train.crop}`;
  return `searched vs random (${draw}; same schedule and seed, ${c.evalImages} held-out images):\n${rows.join('\n')}\n${formatSummary(c)}`;
}

/** Mean, spread and the paired test over seeds (one seed: the rank and the random mean). */
export function formatSummary(c: Comparison): string {
  const pairs = pairedBySeed(c);
  if (!pairs.length) return '';
  const pc = (x: number) => (100 * x).toFixed(2);
  const sp = (xs: number[]) => { const s = spread(xs); return `mean ${pc(s.mean)}%, min ${pc(s.min)}, max ${pc(s.max)}, std ${pc(s.std)}`; };
  const searched = pairs.map((p) => p.searched);
  const random = c.entries.filter((e) => e.kind === 'random').map((e) => e.mIoU);
  if (pairs.length === 1) {
    const rank = 1 + random.filter((x) => x > searched[0]).length;
    return `  searched ranks ${rank} of ${random.length + 1}; random ${sp(random)}; searched minus random mean ${(100 * (searched[0] - pairs[0].random)).toFixed(2)} points\n`;
  }
  const t = pairedTest(searched, pairs.map((p) => p.random));
  return `  over ${pairs.length} seeds: searched ${sp(searched)}; random ${sp(random)} (${random.length} networks)\n` +
    `  searched minus random (per seed): ${t.differences.map((d) => (100 * d).toFixed(2)).join(', ')} points; mean ${(100 * t.diff.mean).toFixed(2)}, ` +
    `paired t ${t.t === null ? '-' : t.t.toFixed(2)} (df ${pairs.length - 1}), sign-flip permutation p ${t.permutationP.toFixed(3)} (two-sided, exact), searched ahead at ${t.wins} of ${pairs.length} seeds\n`;
}
