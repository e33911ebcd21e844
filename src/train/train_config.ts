/** Retraining settings: one typed record, the paper's defaults (Sec. 5.2), validated with messages that name the field. */
import * as os from 'node:os';
import { ConfigLayer, resolveConfig, Schema, threadsSpec } from '../run/config_schema';

export interface TrainConfig {
  /** Iterations in the LR schedule. Paper (Cityscapes): 1.5M. */
  iterations: number;
  batchSize: number;
  /** Square training crop. Paper: 769 (Cityscapes), 513 (VOC, ADE20K). */
  crop: number;
  /** Poly schedule: lr * (1 - t)^power. Paper: 0.05, 0.9. */
  lr: number;
  power: number;
  momentum: number;
  /** DeepLab's weight decay (the paper gives none). */
  weightDecay: number;
  /** Random scale range for augmentation (DeepLab: 0.5..2), relative to the base-resized image. */
  scale: [number, number];
  /**
   * Base resize before augmentation: the longer side to this many pixels (0: off),
   * then by baseScale. Default from the dataset (src/data/registry.ts): ADE20K
   * longer side 513 (Sec. 5.2.3); others as they come (Cityscapes at full resolution).
   */
  baseScale: number;
  baseLongerSide: number;
  /** Validate every N iterations (0: only at the end). */
  evalEvery: number;
  /** Validation images per evaluation (all when larger). */
  evalImages: number;
  seed: number;
  threads: number;
}

/**
 * `train --paper-drop-path`: the keep probability of scheduled drop path, which
 * the paper's best Cityscapes model uses (Table 3: +1.74% mIoU, citing NASNet
 * [93]) without giving its value. 0.7 is NASNet-A Large's (TF-slim's ImageNet
 * configuration); DeepLab's released code defaults to 1 (off). Schedule as
 * NASNet's and DeepLab's: cell l of L keeps 1 - (l+1)/L * (1 - p) * t at training
 * progress t = step / iterations (src/model/network.ts); skips are never dropped.
 */
export const PAPER_DROP_PATH_KEEP = 0.7;

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  iterations: 1_500_000, batchSize: 8, crop: 769, lr: 0.05, power: 0.9, momentum: 0.9, weightDecay: 4e-5,
  scale: [0.5, 2] as [number, number], baseScale: 1, baseLongerSide: 0, evalEvery: 0, evalImages: 500, seed: 0, threads: Math.min(2, os.availableParallelism()),
});

export const TRAIN_SCHEMA: Schema<TrainConfig> = {
  iterations: { kind: 'int', min: 1 },
  batchSize: { kind: 'int', min: 2, why: 'batch norm over a single image is undefined' },
  crop: { kind: 'int', min: 16 },
  lr: { kind: 'number', min: 0 },
  power: { kind: 'number', min: 0 },
  momentum: { kind: 'number', min: 0, max: 1 },
  weightDecay: { kind: 'number', min: 0 },
  scale: { kind: 'pair', min: 0, minOpen: true, ordered: true },
  baseScale: { kind: 'number', min: 0, max: 4, minOpen: true },
  baseLongerSide: { kind: 'int', min: 0 },
  evalEvery: { kind: 'int', min: 0 },
  evalImages: { kind: 'int', min: 0 },
  seed: { kind: 'int', min: 0 },
  threads: threadsSpec(),
};

/** Defaults overlaid with `partial` (or with layers: a --config file, then the typed flags), checked; errors name the source and the field. */
export function resolveTrainConfig(partial: Record<string, unknown> | ConfigLayer[], source = 'train config'): TrainConfig {
  const layers = Array.isArray(partial) ? partial : [{ values: partial, source }];
  return resolveConfig('train config', DEFAULT_TRAIN_CONFIG, TRAIN_SCHEMA, layers) as TrainConfig;
}
