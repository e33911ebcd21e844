/** Shared pieces of the on-disk readers: decoding with checks that name the file. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { BadInputError } from '../../util/errors';
import { IGNORE_INDEX, Sample, SampleFiles, SegmentationDataset } from '../dataset';

/** A dataset file or folder that is missing or wrong (exit code 2). */
export class DatasetError extends BadInputError {}

/** A folder that must exist; the message says which layout was expected. */
export function requireDir(dir: string, expected: string): string {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new DatasetError(`${dir}: folder not found (expected ${expected})`);
  }
  return dir;
}

/** Files under dir (recursively) whose names end with suffix, sorted. */
export function findFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(suffix)) out.push(p);
    }
  };
  walk(dir);
  return out.sort();
}

interface Decoded { width: number; height: number; data: Uint8Array; channels: number }

/** The one wording for an unreadable file, whichever check finds it (the pre-check's header read or a loader's decode). */
export function unreadableFile(file: string, what: string, cause: unknown): string {
  return `${file}: corrupt or truncated ${what} (${(cause as Error).message})`;
}

async function decode(file: string, what: string, img: sharp.Sharp): Promise<Decoded> {
  if (!fs.existsSync(file)) throw new DatasetError(`${file}: ${what} not found`);
  try {
    const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length), channels: info.channels };
  } catch (e) {
    throw new DatasetError(unreadableFile(file, what, e));
  }
}

/** An RGB image, 8 bits per channel. */
export function readImage(file: string): Promise<Decoded> {
  return decode(file, 'image', sharp(file, { failOn: 'truncated' }).removeAlpha().toColourspace('srgb'));
}

/** A single-channel label map (class ids as grey values). */
export function readLabelIds(file: string): Promise<Decoded> {
  return decode(file, 'label map', sharp(file, { failOn: 'truncated' }).extractChannel(0));
}

/** A palette label map (VOC's SegmentationClass), decoded to RGB and mapped back to indices by colour. */
export async function readPaletteLabels(file: string, palette: readonly (readonly number[])[]): Promise<Decoded> {
  const rgb = await decode(file, 'label map', sharp(file, { failOn: 'truncated' }).removeAlpha().toColourspace('srgb'));
  const index = new Map<number, number>();
  palette.forEach((c, k) => index.set((c[0] << 16) | (c[1] << 8) | c[2], k));
  const n = rgb.width * rgb.height;
  const out = new Uint8Array(n);
  for (let p = 0; p < n; p++) {
    const key = (rgb.data[3 * p] << 16) | (rgb.data[3 * p + 1] << 8) | rgb.data[3 * p + 2];
    const k = index.get(key);
    if (k === undefined) {
      throw new DatasetError(`${file}: colour (${rgb.data[3 * p]}, ${rgb.data[3 * p + 1]}, ${rgb.data[3 * p + 2]}) at pixel (${p % rgb.width}, ${Math.floor(p / rgb.width)}) is not in the dataset's palette`);
    }
    out[p] = k;
  }
  return { ...rgb, data: out, channels: 1 };
}

/**
 * Pairs an image with its mapped labels, checking sizes and ranges.
 * map(raw) gives the training id of a raw label value (IGNORE_INDEX allowed).
 */
export function makeSample(id: string, imageFile: string, image: Decoded, labelFile: string, label: Decoded,
  numClasses: number, map: (raw: number) => number): Sample {
  if (image.width !== label.width || image.height !== label.height) {
    throw new DatasetError(`${labelFile}: label map is ${label.width}x${label.height} but its image ${imageFile} is ${image.width}x${image.height}`);
  }
  const out = new Uint8Array(label.width * label.height);
  for (let p = 0; p < out.length; p++) {
    const v = map(label.data[p]);
    if (v !== IGNORE_INDEX && (v < 0 || v >= numClasses)) {
      throw new DatasetError(`${labelFile}: label ${label.data[p]} at pixel (${p % label.width}, ${Math.floor(p / label.width)}) is out of range (expected 0..${numClasses - 1} or ${IGNORE_INDEX})`);
    }
    out[p] = v;
  }
  return { id, width: image.width, height: image.height, image: image.data, label: out };
}

/** A dataset of (image file, grey label file) pairs with a label mapping: Cityscapes, ADE20K, folders. */
export abstract class PairedFilesDataset implements SegmentationDataset {
  abstract readonly name: string;
  abstract readonly numClasses: number;
  abstract readonly classNames: readonly string[];
  abstract readonly palette: readonly (readonly [number, number, number])[];
  protected abstract readonly pairs: { image: string; label: string; id: string }[];
  /** Training id of a raw label value; IGNORE_INDEX to ignore, negative for invalid. */
  protected abstract mapLabel(raw: number): number;

  get length(): number {
    return this.pairs.length;
  }

  files(index: number): SampleFiles {
    return this.pairs[index];
  }

  async get(index: number): Promise<Sample> {
    const p = this.pairs[index];
    const [image, label] = await Promise.all([readImage(p.image), readLabelIds(p.label)]);
    return makeSample(p.id, p.image, image, p.label, label, this.numClasses, (v) => this.mapLabel(v));
  }
}
