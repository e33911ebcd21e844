/**
 * Checks every file of a dataset before the first step, so that a corrupt or
 * mismatched file fails the run in seconds instead of when a batch happens to
 * draw it, hours in. Headers only (sharp reads the image size without
 * decoding the pixels) unless the whole dataset is small enough to decode in
 * a few seconds, which also checks label ranges; `check-data` always decodes.
 */
import * as fs from 'node:fs';
import sharp from 'sharp';
import { SampleFiles, SegmentationDataset } from './dataset';
import { DatasetError, unreadableFile } from './readers/files';
import { SkipBad } from './registry';

/**
 * Below this many label pixels in all, the pre-check decodes every sample (label ranges too).
 * Decoding costs about 10x reading the headers (docs/datasets.md#checks).
 */
export const FULL_CHECK_PIXELS = 50_000_000;
/** How many bad samples an error message names before it only counts the rest. */
const NAMED = 5;
/** Files examined at once (header reads are mostly waiting on the disk). */
const CONCURRENCY = 8;

export interface BadSample {
  index: number;
  id: string;
  /** What is wrong, naming the file. */
  message: string;
}

/** The header pass, then (when the check is full) the decoding pass. */
export type Phase = 'headers' | 'decoding';

export interface InspectOptions {
  /** Decode every image and mask (pixels, label ranges); default: only when the dataset is small. */
  full?: boolean;
  /** Called with (samples checked, total, pass), first after progressEveryMs and then every progressEveryMs. */
  onProgress?: (done: number, total: number, phase: Phase) => void;
  progressEveryMs?: number;
  /** Samples not to check (already checked under another split, say). */
  skip?: (files: SampleFiles) => boolean;
}

/** The size in a file's header, or what is wrong with the file. */
async function header(file: string, what: string): Promise<{ width: number; height: number } | string> {
  if (!fs.existsSync(file)) return `${file}: ${what} not found`;
  try {
    const m = await sharp(file).metadata();
    if (!m.width || !m.height) return `${file}: ${what} header gives no size`;
    return { width: m.width, height: m.height };
  } catch (e) {
    return unreadableFile(file, what, e);
  }
}

/** Problems visible in the headers of one sample's files (empty when none), and its label pixel count. */
async function checkHeaders(f: SampleFiles): Promise<{ problems: string[]; pixels: number }> {
  const [image, label] = await Promise.all([header(f.image, 'image'), header(f.label, 'label map')]);
  const problems = [image, label].filter((h): h is string => typeof h === 'string');
  if (typeof image !== 'string' && typeof label !== 'string' && (image.width !== label.width || image.height !== label.height)) {
    problems.push(`${f.label}: label map is ${label.width}x${label.height} but its image ${f.image} is ${image.width}x${image.height}`);
  }
  return { problems, pixels: typeof label === 'string' ? 0 : label.width * label.height };
}

/** Runs fn over 0..n-1, a few at a time, reporting progress. */
async function forEachSample(n: number, phase: Phase, o: InspectOptions, fn: (i: number) => Promise<void>): Promise<void> {
  const every = o.progressEveryMs ?? 1000;
  let next = 0;
  let done = 0;
  let lastReport = Date.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      await fn(i);
      done++;
      const now = Date.now();
      if (o.onProgress && now - lastReport >= every) {
        lastReport = now;
        o.onProgress(done, n, phase);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
}

/**
 * Every sample with a problem: missing or unreadable files, a label map whose
 * size differs from its image, and (with a full check) undecodable pixels and
 * labels out of range. Datasets without files (builtin) have none.
 */
export async function inspectDataset(dataset: SegmentationDataset, o: InspectOptions = {}): Promise<BadSample[]> {
  // Through --skip-bad's wrapper a bad sample would be silently replaced by the next good one.
  const ds = dataset instanceof SkipBad ? dataset.inner : dataset;
  if (!ds.files || ds.length === 0 || !ds.files(0)) return [];
  const files = (i: number) => ds.files!(i)!;
  const bad = new Map<number, string[]>();
  let pixels = 0;
  // Headers first: quick, and they decide whether a full decode is cheap.
  await forEachSample(ds.length, 'headers', o, async (i) => {
    if (o.skip?.(files(i))) return;
    const h = await checkHeaders(files(i));
    pixels += h.pixels;
    if (h.problems.length > 0) bad.set(i, h.problems);
  });
  if (o.full ?? pixels <= FULL_CHECK_PIXELS) {
    await forEachSample(ds.length, 'decoding', o, async (i) => {
      if (bad.has(i) || o.skip?.(files(i))) return;
      try {
        await ds.get(i);
      } catch (e) {
        if (!(e instanceof DatasetError)) throw e;
        bad.set(i, [e.message]);
      }
    });
  }
  return [...bad.entries()].sort(([a], [b]) => a - b).map(([index, problems]) => ({ index, id: files(index).id, message: problems.join('; ') }));
}

/** Lines for a list of bad samples, the first `limit` of them and a count of the rest. */
export function describeBad(bad: readonly BadSample[], limit = Infinity): string[] {
  const lines = bad.slice(0, limit).map((b) => `  ${b.message}`);
  if (bad.length > limit) lines.push(`  ... and ${bad.length - limit} more`);
  return lines;
}

const said = new Set<string>();

/** Progress as plain stderr lines (the pre-check runs before any progress bar). */
function stderrProgress(label: string): NonNullable<InspectOptions['onProgress']> {
  return (done, total, phase) => process.stderr.write(`checking ${label} (${phase}): ${done}/${total} samples\n`);
}

/**
 * Checks every listed file of `ds` (see inspectDataset) before a run uses it.
 * Bad files are a DatasetError naming the first few and counting the rest;
 * a dataset opened with skipBad instead leaves them out and lists them.
 */
export async function preflightDataset(ds: SegmentationDataset, label: string, o: InspectOptions = {}): Promise<void> {
  const derived = ds.derivedSplit?.description; // a split no list names: say how it was made (once, for train and val alike)
  if (derived && !said.has(derived)) process.stderr.write(`dataset '${ds.name}': ${derived}\n`);
  if (derived) said.add(derived);
  const bad = await inspectDataset(ds, { onProgress: stderrProgress(label), ...o });
  if (bad.length === 0) return;
  if (ds instanceof SkipBad && bad.length < ds.length) {
    for (const b of bad) ds.exclude(b.index, b.message);
    process.stderr.write(`--skip-bad: left out ${bad.length} of ${ds.length} sample(s) of ${label}:\n${describeBad(bad).join('\n')}\n`);
    return;
  }
  throw new DatasetError(`${label}: ${bad.length} of ${ds.length} sample(s) have bad files:\n${describeBad(bad, NAMED).join('\n')}\n` +
    `(autodeeplab check-data lists every problem; --skip-bad leaves them out)`);
}
