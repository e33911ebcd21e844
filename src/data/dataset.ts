/** What every dataset reader provides: samples of an RGB image and a label map. */

export const IGNORE_INDEX = 255;

export interface Sample {
  /** Identifier for messages and prediction file names. */
  id: string;
  width: number;
  height: number;
  /** RGB, interleaved (H, W, 3), 0..255. */
  image: Uint8Array;
  /** Class ids (H, W); IGNORE_INDEX marks pixels without a label. */
  label: Uint8Array;
}

export interface SegmentationDataset {
  readonly name: string;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** RGB colour of each class for visualisation. */
  readonly palette: readonly (readonly [number, number, number])[];
  readonly length: number;
  /** Decodes sample `index`; errors name the file and what was expected. */
  get(index: number): Promise<Sample>;
  /** The files sample `index` is read from (on-disk datasets only), for checks before a run. */
  files?(index: number): SampleFiles | undefined;
  /** A split its files do not list but a rule made (a folder without train.txt / val.txt): said in the output, kept in config.json. */
  readonly derivedSplit?: DerivedSplit;
}

export interface DerivedSplit {
  /** For people: which images, by which rule. */
  description: string;
  /** For config.json: the split, the rule's settings and the counts. */
  record: Record<string, unknown>;
}

/** config.json's record of the splits a rule made, as `{derivedSplits: [...]}` (nothing when every split is listed). */
export function derivedSplitsRecord(...datasets: (SegmentationDataset | undefined)[]): { derivedSplits?: Record<string, unknown>[] } {
  const records = datasets.flatMap((d) => (d?.derivedSplit ? [d.derivedSplit.record] : []));
  return records.length ? { derivedSplits: records } : {};
}

export interface SampleFiles {
  id: string;
  image: string;
  label: string;
}

/** An image of a split without its label (a test split: predict). */
export type SplitImage = Omit<SampleFiles, 'label'>;

/** Per-channel mean and std of 0..1 RGB (ImageNet's, the DeepLab convention). */
export const NORMALIZE_MEAN = [0.485, 0.456, 0.406] as const;
export const NORMALIZE_STD = [0.229, 0.224, 0.225] as const;
