/** A folder dataset on disk (images/, masks/, classes.json) with chosen faults, for the reliability tests. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';

export type Fault = 'label-out-of-range' | 'corrupt-image' | 'truncated-mask' | 'size-mismatch' | 'missing-mask';

export const FIXTURE_CLASSES = 3;

/** An RGB PNG (or JPEG by extension) with a deterministic pattern. */
export async function writeRgb(file: string, w: number, h: number, seed = 0): Promise<void> {
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + seed * 11) % 256;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(data, { raw: { width: w, height: h, channels: 3 } }).toFile(file);
}

/** A grey PNG of class ids: value (x + y) % FIXTURE_CLASSES, except the given pixel. */
export async function writeMask(file: string, w: number, h: number, bad?: { x: number; y: number; value: number }): Promise<void> {
  const data = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = (x + y) % FIXTURE_CLASSES;
  if (bad) data[bad.y * w + bad.x] = bad.value;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await sharp(data, { raw: { width: w, height: h, channels: 1 } }).png().toFile(file);
}

/** Keeps the first half of a file: its header still reads, its pixels do not. */
export function truncate(file: string): void {
  const full = fs.readFileSync(file);
  fs.writeFileSync(file, full.subarray(0, Math.floor(full.length / 2)));
}

/**
 * Writes `n` samples s0..s{n-1} of side `size` under a new temporary folder;
 * faults maps a sample number to what is wrong with it. Returns the folder.
 * Without lists the reader holds some out for val (train is the others);
 * allInTrain writes a train.txt naming every sample, so sample i is index i.
 */
export async function folderDataset(n: number, size: number, faults: Record<number, Fault> = {}, o: { allInTrain?: boolean } = {}): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-fixture-'));
  fs.writeFileSync(path.join(root, 'classes.json'), JSON.stringify({ names: ['bg', 'a', 'b'] }));
  if (o.allInTrain) fs.writeFileSync(path.join(root, 'train.txt'), Array.from({ length: n }, (_, i) => `s${i}\n`).join(''));
  for (let i = 0; i < n; i++) {
    const image = path.join(root, 'images', `s${i}.png`);
    const mask = path.join(root, 'masks', `s${i}.png`);
    await writeRgb(image, size, size, i);
    await writeMask(mask, size, size, faults[i] === 'label-out-of-range' ? { x: 5, y: 1, value: 9 } : undefined);
    if (faults[i] === 'corrupt-image') fs.writeFileSync(image, 'this is not an image');
    if (faults[i] === 'truncated-mask') truncate(mask);
    if (faults[i] === 'size-mismatch') await writeMask(mask, size - 1, size);
    if (faults[i] === 'missing-mask') fs.rmSync(mask);
  }
  return root;
}

export type Benchmark = 'cityscapes' | 'voc' | 'ade20k';

/**
 * Where sample `name` of a split keeps its image and label in a benchmark's
 * official layout under root (as src/data/readers read them). Cityscapes
 * names are {city}_{seq}_{frame}; ADE20K's test images are release_test/testing/*.jpg.
 */
export function benchmarkFiles(b: Benchmark, root: string, split: string, name: string): { image: string; label: string } {
  if (b === 'cityscapes') {
    const city = name.split('_')[0];
    return { image: path.join(root, 'leftImg8bit', split, city, `${name}_leftImg8bit.png`), label: path.join(root, 'gtFine', split, city, `${name}_gtFine_labelIds.png`) };
  }
  if (b === 'voc') {
    const base = path.join(root, 'VOCdevkit', 'VOC2012');
    return { image: path.join(base, 'JPEGImages', `${name}.jpg`), label: path.join(base, 'SegmentationClass', `${name}.png`) };
  }
  const dir = split === 'train' ? 'training' : split === 'val' ? 'validation' : split;
  const ade = path.join(root, 'ADEChallengeData2016');
  return {
    image: split === 'test' ? path.join(root, 'release_test', 'testing', `${name}.jpg`) : path.join(ade, 'images', dir, `${name}.jpg`),
    label: path.join(ade, 'annotations', dir, `${name}.png`),
  };
}

/** Writes the images of a split (w x h, patterned) and VOC's split list; no labels. Returns the image files. */
export async function writeBenchmarkImages(b: Benchmark, root: string, split: string, names: string[], w: number, h: number): Promise<string[]> {
  const images = names.map((n) => benchmarkFiles(b, root, split, n).image);
  for (const [i, image] of images.entries()) await writeRgb(image, w, h, i + 1);
  if (b === 'voc') {
    const list = path.join(root, 'VOCdevkit', 'VOC2012', 'ImageSets', 'Segmentation', `${split}.txt`);
    fs.mkdirSync(path.dirname(list), { recursive: true });
    fs.writeFileSync(list, names.join('\n') + '\n');
  }
  return images;
}

/** Copies a file to where a label goes (making its folders): a prediction read back as a label. */
export function placeAsLabel(file: string, label: string): void {
  fs.mkdirSync(path.dirname(label), { recursive: true });
  fs.copyFileSync(file, label);
}
