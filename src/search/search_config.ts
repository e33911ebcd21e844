/**
 * Search configuration: one typed record, the paper's defaults (Sec. 5.1),
 * validated with messages that name the field.
 */
import * as os from 'node:os';
import { BLOCKS, levelSizes, minCrop } from '../arch/space';
import { ConfigLayer, resolveConfig, Schema, threadsSpec } from '../run/config_schema';
import { AugmentOptions } from '../data/pipeline';

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
  /**
   * Eq. 6 with untied cells: each arrow's cell has its own op weights (about
   * 2.1x the cell weights). Default false: the cells into a node share them
   * (the paper does not say; search/fused_cell.ts).
   */
  untiedCells: boolean;
  /** One alpha per layer, decoded to one cell per layer (the paper's future work, Sec. 6). Default false: one alpha (Sec. 4.1.2). */
  alphaPerLayer: boolean;
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
  /**
   * Base resize before cropping: the longer side to this many pixels (0: off),
   * then by baseScale. Default from the dataset (src/data/registry.ts):
   * Cityscapes 0.5, half resolution as in Sec. 5.1; ADE20K longer side 513; others 1.
   */
  baseScale: number;
  baseLongerSide: number;
  /**
   * Random scale 0.75-1.25 and horizontal flip on the search crops. Off: the
   * paper's plain random crops (Sec. 5.1 mentions no other augmentation).
   */
  augment: boolean;
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
   * are never held at once. 'auto' keeps the activations when their estimated
   * peak fits in half this machine's memory (search_memory.ts: chooseRecompute).
   */
  recompute: boolean | 'auto';
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
  untiedCells: false,
  alphaPerLayer: false,
  epochs: 40,
  archStartEpoch: 20,
  batchSize: 2,
  crop: 321,
  baseScale: 1,
  baseLongerSide: 0,
  augment: false,
  weightLr: 0.025,
  weightLrMin: 0.001,
  weightMomentum: 0.9,
  weightDecay: 3e-4,
  archLr: 3e-3,
  archWeightDecay: 1e-3,
  archBetas: [0.9, 0.999] as [number, number],
  archInitScale: 1e-3,
  gradClip: 0,
  recompute: 'auto',
  seed: 0,
  threads: Math.min(2, os.availableParallelism()),
});

/** Ranges of every field (Sec. 5.1 for the values; the reasons for the bounds are given where not obvious). */
export const SEARCH_SCHEMA: Schema<SearchConfig> = {
  layers: { kind: 'int', min: 1 },
  blocks: { kind: 'int', min: BLOCKS.min, max: BLOCKS.max, why: BLOCKS.why },
  filterMultiplier: { kind: 'int', min: 1 },
  levels: { kind: 'int', min: 1, max: 4 },
  stemChannels: { kind: 'int', min: 1 },
  numClasses: { kind: 'int', min: 2 },
  untiedCells: { kind: 'boolean' },
  alphaPerLayer: { kind: 'boolean' },
  epochs: { kind: 'int', min: 1 },
  archStartEpoch: { kind: 'int', min: 0 },
  batchSize: { kind: 'int', min: 2, why: 'batch norm over a single image is undefined' },
  crop: { kind: 'int', min: 16 },
  baseScale: { kind: 'number', min: 0, max: 4, minOpen: true },
  baseLongerSide: { kind: 'int', min: 0 },
  augment: { kind: 'boolean' },
  weightLr: { kind: 'number', min: 0 },
  weightLrMin: { kind: 'number', min: 0 },
  weightMomentum: { kind: 'number', min: 0, max: 1 },
  weightDecay: { kind: 'number', min: 0 },
  archLr: { kind: 'number', min: 0 },
  archWeightDecay: { kind: 'number', min: 0 },
  archBetas: { kind: 'pair', min: 0, max: 1, maxOpen: true },
  archInitScale: { kind: 'number', min: 0 },
  gradClip: { kind: 'number', min: 0 },
  recompute: { kind: 'choice', values: [true, false, 'auto'] },
  seed: { kind: 'int', min: 0 },
  threads: threadsSpec(),
};

/**
 * Defaults overlaid with `partial` (or with layers: a --config file, then the
 * typed flags), checked; errors name the file or flag and the field.
 */
export function resolveSearchConfig(partial: Partial<SearchConfig> | ConfigLayer[] = {}, source = 'search config'): SearchConfig {
  const layers = Array.isArray(partial) ? partial : [{ values: partial as Record<string, unknown>, source }];
  return resolveConfig('search config', DEFAULT_SEARCH_CONFIG, SEARCH_SCHEMA, layers, (c, bad) => {
    if (c.archStartEpoch > c.epochs) bad('archStartEpoch', `must be <= epochs (${c.epochs})`);
    const coarsest = levelSizes(c.crop, c.levels)[c.levels - 1];
    if (coarsest < 2) {
      // Batch norm over 1x1 maps of a small batch is degenerate: equal samples give exploding gradients.
      bad('crop', `gives ${coarsest}x${coarsest} feature maps at output stride ${4 * 2 ** (c.levels - 1)}; use a crop of at least ${minCrop(c.levels)}`);
    }
    if (c.weightLrMin > c.weightLr) bad('weightLrMin', `must be <= weightLr (${c.weightLr})`);
  }) as SearchConfig;
}

/** The search batches: plain crops of the base-resized images (Sec. 5.1), or with random scale and flip (augment). */
export function searchAugmentation(c: SearchConfig): AugmentOptions {
  const base = { scale: c.baseScale, longerSide: c.baseLongerSide };
  return c.augment ? { crop: c.crop, scale: [0.75, 1.25], flip: true, base } : { crop: c.crop, scale: [1, 1], flip: false, base };
}
