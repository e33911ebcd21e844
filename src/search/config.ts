/**
 * Search configuration: one typed record, the paper's defaults (Sec. 5.1),
 * validated with messages that name the field.
 */
import { levelSizes, minCrop } from '../arch/space';
import { ConfigError } from '../util/errors';

export interface SearchSpaceConfig {
  /** L: cells (layers) after the stem. Paper: 12. */
  layers: number;
  /** B: blocks per cell. Paper: 5. */
  blocks: number;
  /** F: filter multiplier; a node at stride s has B * F * s/4 channels. Paper: 8 during search. */
  filterMultiplier: number;
  /** Output strides searched: 4 levels = strides 4, 8, 16, 32. */
  levels: number;
  /** Channels of the stem output (stride 4). */
  stemChannels: number;
  /** Classes of the segmentation task (set from the dataset). */
  numClasses: number;
}

export interface SearchOptimConfig {
  /** Total epochs. Paper: 40. */
  epochs: number;
  /** Architecture steps start at this epoch (warm-up before). Paper: 20. */
  archStartEpoch: number;
  /** Images per step. Paper: 2 (GPU memory). */
  batchSize: number;
  /** Square random crop. Paper: 321 from half-resolution Cityscapes. */
  crop: number;
  /** Weights: SGD, momentum 0.9, cosine LR 0.025 -> 0.001, weight decay 3e-4. */
  weightLr: number;
  weightLrMin: number;
  weightMomentum: number;
  weightDecay: number;
  /** alpha, beta: Adam, LR 3e-3, weight decay 1e-3, betas (0.9, 0.999) (DARTS uses 0.5; the paper does not say). */
  archLr: number;
  archWeightDecay: number;
  archBetas: [number, number];
  /** alpha, beta initialised as N(0, 1) * this. Paper: 1e-3. */
  archInitScale: number;
  /** Gradient-norm clip on the weights; 0 (the paper's, which names none) turns it off. DARTS uses 5. */
  gradClip: number;
  /**
   * Recompute activations layer by layer in the backward pass (gradient
   * checkpointing): same results, far less memory, about one more forward
   * pass of time. Without gradient clipping, each layer's weights are also
   * updated as soon as their gradients are complete, so that all gradients
   * are never held at once.
   */
  recompute: boolean;
  /** Seed for weights, data split and batches. */
  seed: number;
  /** libtorch intra-op threads. */
  threads: number;
}

export type SearchConfig = SearchSpaceConfig & SearchOptimConfig;

export const DEFAULT_SEARCH_CONFIG: Readonly<SearchConfig> = Object.freeze({
  layers: 12,
  blocks: 5,
  filterMultiplier: 8,
  levels: 4,
  stemChannels: 128,
  numClasses: 19,
  epochs: 40,
  archStartEpoch: 20,
  batchSize: 2,
  crop: 321,
  weightLr: 0.025,
  weightLrMin: 0.001,
  weightMomentum: 0.9,
  weightDecay: 3e-4,
  archLr: 3e-3,
  archWeightDecay: 1e-3,
  archBetas: [0.9, 0.999] as [number, number],
  archInitScale: 1e-3,
  gradClip: 0,
  recompute: true,
  seed: 0,
  threads: 2,
});

const INT_FIELDS: (keyof SearchConfig)[] = ['layers', 'blocks', 'filterMultiplier', 'levels', 'stemChannels', 'numClasses',
  'epochs', 'archStartEpoch', 'batchSize', 'crop', 'seed', 'threads'];
const NUM_FIELDS: (keyof SearchConfig)[] = ['weightLr', 'weightLrMin', 'weightMomentum', 'weightDecay', 'archLr',
  'archWeightDecay', 'archInitScale', 'gradClip'];

/** Defaults overlaid with `partial`, checked; `source` names the file or flag set in errors. */
export function resolveSearchConfig(partial: Partial<SearchConfig> = {}, source = 'search config'): SearchConfig {
  const known = new Set(Object.keys(DEFAULT_SEARCH_CONFIG));
  for (const k of Object.keys(partial)) {
    if (!known.has(k)) throw new ConfigError(`${source}: unknown field '${k}' (known: ${[...known].join(', ')})`);
  }
  const c = { ...DEFAULT_SEARCH_CONFIG, ...partial } as SearchConfig;
  const bad = (field: string, expected: string) => {
    throw new ConfigError(`${source}: field '${field}' ${expected}, got ${JSON.stringify((c as unknown as Record<string, unknown>)[field])}`);
  };
  for (const f of INT_FIELDS) if (!Number.isInteger(c[f]) || (c[f] as number) < 0) bad(f, 'must be a non-negative integer');
  for (const f of NUM_FIELDS) if (typeof c[f] !== 'number' || !Number.isFinite(c[f] as number) || (c[f] as number) < 0) bad(f, 'must be a non-negative number');
  if (c.layers < 1) bad('layers', 'must be >= 1');
  if (c.blocks < 2) bad('blocks', 'must be >= 2 (decoding keeps two inputs per block)');
  if (c.filterMultiplier < 1) bad('filterMultiplier', 'must be >= 1');
  if (c.levels < 1 || c.levels > 4) bad('levels', 'must be 1..4');
  if (c.numClasses < 2) bad('numClasses', 'must be >= 2');
  if (c.epochs < 1) bad('epochs', 'must be >= 1');
  if (c.archStartEpoch > c.epochs) bad('archStartEpoch', `must be <= epochs (${c.epochs})`);
  if (c.batchSize < 2) bad('batchSize', 'must be >= 2 (batch norm over a single image is undefined)');
  if (c.crop < 16) bad('crop', 'must be >= 16');
  if (c.threads < 1) bad('threads', 'must be >= 1');
  const coarsest = levelSizes(c.crop, c.levels)[c.levels - 1];
  if (coarsest < 2) {
    // Batch norm over 1x1 maps of a small batch is degenerate: equal samples give exploding gradients.
    bad('crop', `gives ${coarsest}x${coarsest} feature maps at output stride ${4 * 2 ** (c.levels - 1)}; use a crop of at least ${minCrop(c.levels)}`);
  }
  if (c.weightLrMin > c.weightLr) bad('weightLrMin', `must be <= weightLr (${c.weightLr})`);
  if (typeof c.recompute !== 'boolean') bad('recompute', 'must be true or false');
  if (!Array.isArray(c.archBetas) || c.archBetas.length !== 2 || c.archBetas.some((b) => !(b >= 0 && b < 1))) {
    bad('archBetas', 'must be two numbers in [0, 1)');
  }
  return Object.freeze(c);
}
