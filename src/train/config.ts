/** Retraining settings: one typed record, the paper's defaults (Sec. 5.2), validated with messages that name the field. */
import { ConfigError } from '../util/errors';

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
  /** Random scale range for augmentation (DeepLab: 0.5..2). */
  scale: [number, number];
  /** Validate every N iterations (0: only at the end). */
  evalEvery: number;
  /** Validation images per evaluation (all when larger). */
  evalImages: number;
  seed: number;
  threads: number;
}

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  iterations: 1_500_000, batchSize: 8, crop: 769, lr: 0.05, power: 0.9, momentum: 0.9, weightDecay: 4e-5,
  scale: [0.5, 2] as [number, number], evalEvery: 0, evalImages: 500, seed: 0, threads: 2,
});

/** Defaults overlaid with `partial`, checked; errors name the source and the field. */
export function resolveTrainConfig(partial: Record<string, unknown>, source = 'train config'): TrainConfig {
  const known = Object.keys(DEFAULT_TRAIN_CONFIG);
  for (const k of Object.keys(partial)) {
    if (!known.includes(k)) throw new ConfigError(`${source}: unknown field '${k}' (known: ${known.join(', ')})`);
  }
  const c = { ...DEFAULT_TRAIN_CONFIG, ...partial } as TrainConfig;
  const bad = (f: string, expected: string) => {
    throw new ConfigError(`${source}: field '${f}' ${expected}, got ${JSON.stringify((c as unknown as Record<string, unknown>)[f])}`);
  };
  for (const f of ['iterations', 'batchSize', 'crop', 'threads'] as const) if (!Number.isInteger(c[f]) || c[f] < 1) bad(f, 'must be a positive integer');
  for (const f of ['evalEvery', 'evalImages', 'seed'] as const) if (!Number.isInteger(c[f]) || c[f] < 0) bad(f, 'must be a non-negative integer');
  for (const f of ['lr', 'power', 'momentum', 'weightDecay'] as const) if (typeof c[f] !== 'number' || !(c[f] >= 0)) bad(f, 'must be a non-negative number');
  if (c.batchSize < 2) bad('batchSize', 'must be >= 2 (batch norm over a single image is undefined)');
  if (!Array.isArray(c.scale) || c.scale.length !== 2 || !(c.scale[0] > 0 && c.scale[1] >= c.scale[0])) bad('scale', 'must be [min, max] with 0 < min <= max');
  return Object.freeze(c);
}
