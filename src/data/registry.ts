/** Datasets by name, as the CLI's --dataset and --data-root name them. */
import { BuiltinScenes } from './builtin';
import { Sample, SampleFiles, SegmentationDataset, SplitImage } from './dataset';
import { ADE20K, ade20kImages } from './readers/ade20k';
import { Cityscapes, cityscapesImages } from './readers/cityscapes';
import { DatasetError } from './readers/files';
import { FolderDataset } from './readers/folder';
import { PascalVOC, vocImages } from './readers/voc';
import { BaseResize, NO_RESIZE } from './pipeline';
import { BadInputError } from '../util/errors';
import * as path from 'node:path';

export const DATASETS = ['builtin', 'cityscapes', 'voc', 'ade20k', 'folder'] as const;
export type DatasetName = (typeof DATASETS)[number];

export interface DatasetOptions {
  /** Folder of an on-disk dataset (unused by builtin). */
  root?: string;
  /** train, val; voc also trainval and train_aug. */
  split: string;
  /** builtin: scenes per split and their side in pixels. */
  builtinSize?: number;
  builtinImageSize?: number;
  seed?: number;
  /** cityscapes: gtCoarse labels instead of gtFine. */
  coarse?: boolean;
  /** Skip samples that fail to load (and report them) instead of stopping. */
  skipBad?: boolean;
}

/** Sizes of the built-in dataset when none are given. */
export const BUILTIN_DEFAULTS = { train: 200, val: 50, imageSize: 321 } as const;

/**
 * The resize a dataset's images get before cropping in `search` or `train`
 * (the defaults of their baseScale and baseLongerSide). Cityscapes is searched
 * at half resolution, 512x1024 (Sec. 5.1), and retrained at full resolution
 * (769 crops, Sec. 5.2.1); ADE20K images are resized so that the longer side
 * is 513 (Sec. 5.2.3; the paper says so for training, and we search at the
 * same scale). The other datasets are used as they come (the paper gives no
 * resize; VOC's images are about 500x375 already).
 */
export function datasetBaseResize(name: string, purpose: 'search' | 'train'): BaseResize {
  if (name === 'cityscapes' && purpose === 'search') return { scale: 0.5, longerSide: 0 };
  return name === 'ade20k' ? { scale: 1, longerSide: 513 } : NO_RESIZE;
}

export function openDataset(name: string, o: DatasetOptions): SegmentationDataset {
  const ds = open(name, o);
  return o.skipBad ? new SkipBad(ds) : ds;
}

function open(name: string, o: DatasetOptions): SegmentationDataset {
  const root = () => {
    if (!o.root) throw new DatasetError(`--data-root: dataset '${name}' needs the folder it was unpacked to`);
    return o.root;
  };
  switch (name) {
    case 'builtin': {
      const size = o.builtinSize ?? (o.split === 'train' ? BUILTIN_DEFAULTS.train : BUILTIN_DEFAULTS.val);
      // Splits differ by seed, so validation scenes are never training scenes.
      return new BuiltinScenes({ size, imageSize: o.builtinImageSize ?? BUILTIN_DEFAULTS.imageSize, seed: (o.seed ?? 0) * 2 + (o.split === 'train' ? 0 : 1) });
    }
    case 'cityscapes':
      return new Cityscapes(root(), o.split, o.coarse);
    case 'voc':
      return new PascalVOC(root(), o.split);
    case 'ade20k':
      return new ADE20K(root(), o.split);
    case 'folder':
      return new FolderDataset(root(), o.split);
    default:
      throw new BadInputError(`--dataset: unknown dataset '${name}'; available: ${DATASETS.join(', ')}`);
  }
}

/** The datasets whose splits `predict` reads images of, labels or not (a test split). */
export const IMAGE_SPLIT_DATASETS = ['cityscapes', 'voc', 'ade20k'] as const;

/** The images of a split of an on-disk benchmark, without their labels (test splits have none). */
export function splitImages(name: (typeof IMAGE_SPLIT_DATASETS)[number], root: string, split: string): SplitImage[] {
  return { cityscapes: cityscapesImages, voc: vocImages, ade20k: ade20kImages }[name](root, split);
}

/**
 * The folder an on-disk dataset was opened from, absolute (none for builtin):
 * runs record it in config.json so that `report` finds the data again.
 */
export function dataRootOf(ds: SegmentationDataset): { dataRoot?: string } {
  const { root } = (ds instanceof SkipBad ? ds.inner : ds) as { root?: unknown };
  return typeof root === 'string' ? { dataRoot: path.resolve(root) } : {};
}

/** --skip-bad: a sample that fails to load is replaced by the next good one, and remembered. */
export class SkipBad implements SegmentationDataset {
  readonly skipped = new Map<number, string>();
  constructor(readonly inner: SegmentationDataset) {}
  get name() { return this.inner.name; }
  get numClasses() { return this.inner.numClasses; }
  get classNames() { return this.inner.classNames; }
  get palette() { return this.inner.palette; }
  get length() { return this.inner.length; }
  get derivedSplit() { return this.inner.derivedSplit; }

  files(index: number): SampleFiles | undefined {
    return this.inner.files?.(index);
  }

  /** Leaves sample `index` out from now on (found bad before the run), with the reason. */
  exclude(index: number, message: string): void {
    this.skipped.set(index, message);
  }

  async get(index: number): Promise<Sample> {
    for (let k = 0; k < this.inner.length; k++) {
      const i = (index + k) % this.inner.length;
      if (this.skipped.has(i)) continue;
      try {
        return await this.inner.get(i);
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        this.skipped.set(i, e.message);
      }
    }
    throw new DatasetError(`${this.inner.name}: every sample failed to load (${this.skipped.size} skipped)`);
  }

  /** One line per skipped sample. */
  report(): string[] {
    return [...this.skipped.entries()].sort(([a], [b]) => a - b).map(([i, m]) => `sample ${i}: ${m}`);
  }
}

/** Prints what --skip-bad skipped (nothing when the dataset was not wrapped). */
export function reportSkipped(...datasets: (SegmentationDataset | undefined)[]): void {
  const listed = new Set<string>(); // train and val may share their files (a folder without split lists): each file once
  for (const d of datasets) {
    if (!(d instanceof SkipBad) || d.skipped.size === 0) continue;
    const lines = d.report().filter((l) => !listed.has(l));
    lines.forEach((l) => listed.add(l));
    if (lines.length === 0) continue;
    process.stderr.write(`--skip-bad: skipped ${lines.length} sample(s) of ${d.name}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
  }
}
