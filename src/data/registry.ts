/** Datasets by name, as the CLI's --dataset and --data-root name them. */
import { BuiltinScenes } from './builtin';
import { SegmentationDataset } from './dataset';

export const DATASETS = ['builtin'] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface DatasetOptions {
  /** Folder of an on-disk dataset (unused by builtin). */
  root?: string;
  split: 'train' | 'val';
  /** builtin: scenes per split and their side in pixels. */
  builtinSize?: number;
  builtinImageSize?: number;
  seed?: number;
}

/** Sizes of the built-in dataset when none are given. */
export const BUILTIN_DEFAULTS = { train: 200, val: 50, imageSize: 321 } as const;

export function openDataset(name: string, o: DatasetOptions): SegmentationDataset {
  switch (name) {
    case 'builtin': {
      const size = o.builtinSize ?? (o.split === 'train' ? BUILTIN_DEFAULTS.train : BUILTIN_DEFAULTS.val);
      // Splits differ by seed, so validation scenes are never training scenes.
      return new BuiltinScenes({ size, imageSize: o.builtinImageSize ?? BUILTIN_DEFAULTS.imageSize, seed: (o.seed ?? 0) * 2 + (o.split === 'train' ? 0 : 1) });
    }
    default:
      throw new Error(`--dataset: unknown dataset '${name}'; available: ${DATASETS.join(', ')}`);
  }
}
