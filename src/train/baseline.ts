/**
 * Searched vs random (issue 12, item 7): K architectures drawn uniformly from
 * the same space (src/arch/random.ts), each retrained with exactly the
 * searched one's settings (model options, schedule, seed) and evaluated on the
 * same held-out images, so that the only difference is the architecture. Tells
 * whether a search earned its cost. Writes to `out`:
 *
 *   searched/, random-1/ .. random-K/   one training run each (resumable)
 *   comparison.json                      every architecture's genotype and metrics, the summary
 *
 * A finished architecture (its model.safetensors and its entry) is not
 * retrained when the comparison is run again; an interrupted one resumes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellOfLayer, Genotype } from '../arch/genotype';
import { sampleGenotype } from '../arch/random';
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

export interface ComparisonEntry {
  name: string;
  kind: 'searched' | 'random';
  genotype: Genotype;
  mIoU: number;
  pixelAccuracy: number;
  perClassIoU: Record<string, number | null>;
}

export interface Comparison {
  version: 1;
  /** Seed of the random architectures (the training seed is train.seed, the same for all). */
  sampleSeed: number;
  train: TrainConfig;
  filterMultiplier: number;
  evalImages: number;
  entries: ComparisonEntry[];
}

export const COMPARISON_FILE = 'comparison.json';

/** K genotypes of the searched one's shape (blocks, layers), uniform over the space, from `seed`. */
export function randomArchitectures(searched: Genotype, k: number, seed: number): Genotype[] {
  const rng = new Rng(hashSeed(seed, 0x7a4d0b));
  return Array.from({ length: k }, () => sampleGenotype(rng, { blocks: cellOfLayer(searched, 0).blocks.length, layers: searched.path.length }));
}

export interface ComparisonOptions {
  searched: Genotype;
  randomCount: number;
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

/** Trains (or reuses) each architecture and evaluates it; comparison.json is rewritten after each. */
export async function runComparison(o: ComparisonOptions): Promise<Comparison> {
  const file = path.join(o.out, COMPARISON_FILE);
  const fm = o.modelOf(o.searched).filterMultiplier;
  const saved = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Comparison) : null;
  // Results of an earlier run are kept only when made with the same settings.
  const previous = saved && JSON.stringify(saved.train) === JSON.stringify(o.train) && saved.filterMultiplier === fm && saved.evalImages === o.valDataset.length ? saved : null;
  const archs: [string, 'searched' | 'random', Genotype][] = [
    ['searched', 'searched', o.searched],
    ...randomArchitectures(o.searched, o.randomCount, o.train.seed).map((g, i) => [`random-${i + 1}`, 'random', g] as [string, 'random', Genotype]),
  ];
  const result: Comparison = { version: 1, sampleSeed: o.train.seed, train: o.train, filterMultiplier: fm, evalImages: o.valDataset.length, entries: [] };
  for (const [index, [name, kind, genotype]] of archs.entries()) {
    const dir = kind === 'searched' && o.searchedDir ? o.searchedDir : path.join(o.out, name);
    const done = previous?.entries.find((e) => e.name === name && JSON.stringify(e.genotype) === JSON.stringify(genotype));
    if (done && fs.existsSync(path.join(dir, 'model.safetensors'))) {
      result.entries.push(done);
      continue;
    }
    const trained = await runTraining({
      model: o.modelOf(genotype), train: o.train, dataset: o.dataset, datasetSpec: o.datasetSpec, out: dir,
      resume: fs.existsSync(path.join(dir, 'checkpoint.safetensors')) && !fs.existsSync(path.join(dir, 'model.safetensors')),
      shouldStop: o.shouldStop, onIteration: o.onStart?.(name, index, archs.length),
    });
    trained.model.weights.dispose();
    if (!trained.completed) break;
    const r = await evaluateSaved(path.join(dir, 'model.safetensors'), o.valDataset);
    result.entries.push({ name, kind, genotype, mIoU: r.mIoU, pixelAccuracy: r.pixelAccuracy, perClassIoU: r.perClassIoU });
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

/** The comparison as printed text: one line per architecture, the searched one's rank among all. */
export function formatComparison(c: Comparison): string {
  const sorted = [...c.entries].sort((a, b) => b.mIoU - a.mIoU);
  const rows = c.entries.map((e) => `  ${e.name.padEnd(10)} mIoU ${percent(e.mIoU).padStart(7)}  pixel accuracy ${percent(e.pixelAccuracy)}` +
    `  path ${e.genotype.path.map((k) => 4 * 2 ** k).join(' ')}`);
  const searched = c.entries.find((e) => e.kind === 'searched');
  const randoms = c.entries.filter((e) => e.kind === 'random').map((e) => e.mIoU);
  const summary = searched && randoms.length
    ? `  searched ranks ${sorted.indexOf(searched) + 1} of ${c.entries.length}; random mIoU mean ${percent(randoms.reduce((a, b) => a + b, 0) / randoms.length)}, ` +
      `best ${percent(Math.max(...randoms))}`
    : '';
  return `searched vs random (same schedule and seed, ${c.evalImages} held-out images):\n${rows.join('\n')}\n${summary}\n`;
}
