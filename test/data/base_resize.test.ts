/**
 * The search data of Sec. 5.1 (plain random crops of half-resolution images,
 * augmentation only on request) and the base resize of each dataset (ADE20K:
 * longer side 513, Sec. 5.2.3), against explicit resize-then-crop oracles.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { IGNORE_INDEX, NORMALIZE_MEAN, NORMALIZE_STD, Sample, SegmentationDataset } from '../../src/data/dataset';
import { BatchArrays, BatchSampler, NO_RESIZE } from '../../src/data/pipeline';
import { datasetBaseResize, openDataset } from '../../src/data/registry';
import { resolveSearchConfig, searchAugmentation } from '../../src/search/search_config';
import { jsRandom } from '../helpers';
import { writeMask, writeRgb } from './fixtures';

const [H, W] = [80, 128];

/** Samples whose red channel is a ramp in x (2 per pixel: flips and scales show in its slope) and whose green and blue are noise. */
class RampScenes implements SegmentationDataset {
  readonly name = 'ramps';
  readonly numClasses = 6;
  readonly classNames = ['a', 'b', 'c', 'd', 'e', 'f'];
  readonly palette = this.classNames.map((): [number, number, number] => [0, 0, 0]);
  readonly length = 4;
  async get(i: number): Promise<Sample> {
    const r = jsRandom(100 + i);
    const image = new Uint8Array(H * W * 3);
    const label = new Uint8Array(H * W);
    for (let p = 0; p < H * W; p++) {
      image.set([2 * (p % W), Math.floor(r() * 256), Math.floor(r() * 256)], 3 * p);
      label[p] = Math.floor(r() * 6);
    }
    return { id: `s${i}`, width: W, height: H, image, label };
  }
}

/** Half resolution in closed form: bilinear at half-pixel centres averages each 2x2 block; nearest takes its lower-right pixel. */
function halfResolution(s: Sample): Sample {
  const [h, w] = [s.height / 2, s.width / 2];
  const image = new Uint8Array(h * w * 3);
  const label = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const at = (dy: number, dx: number, c: number) => s.image[((2 * y + dy) * s.width + 2 * x + dx) * 3 + c];
      for (let c = 0; c < 3; c++) image[(y * w + x) * 3 + c] = Math.floor((at(0, 0, c) + at(0, 1, c) + at(1, 0, c) + at(1, 1, c)) / 4 + 0.5);
      label[y * w + x] = s.label[(2 * y + 1) * s.width + 2 * x + 1];
    }
  }
  return { ...s, width: w, height: h, image, label };
}

/** Offsets [oy, ox] at which crop b of a batch equals a window of r (mirrored first when flipped). */
function windowsOf(batch: BatchArrays, b: number, r: Sample, flipped: boolean): [number, number][] {
  const c = batch.crop;
  const found: [number, number][] = [];
  for (let oy = 0; oy + c <= r.height; oy++) {
    for (let ox = 0; ox + c <= r.width; ox++) {
      let same = true;
      for (let y = 0; y < c && same; y++) {
        for (let x = 0; x < c && same; x++) {
          const sx = flipped ? r.width - 1 - (ox + x) : ox + x;
          const p = (oy + y) * r.width + sx;
          same = batch.labels[(b * c + y) * c + x] === r.label[p] && [0, 1, 2].every((ch) =>
            Math.abs(batch.images[((b * 3 + ch) * c + y) * c + x] - (r.image[p * 3 + ch] / 255 - NORMALIZE_MEAN[ch]) / NORMALIZE_STD[ch]) < 1e-5);
        }
      }
      if (same) found.push([oy, ox]);
    }
  }
  return found;
}

/** Red-channel slope along x of crop b (first to last column of its first row), in 0..255 units per pixel. */
function redSlope(batch: BatchArrays, b: number): number {
  const c = batch.crop;
  const red = (x: number) => (batch.images[(b * 3 * c) * c + x] * NORMALIZE_STD[0] + NORMALIZE_MEAN[0]) * 255;
  return (red(c - 1) - red(0)) / (c - 1);
}

/** Every crop of a few epochs of a sampler over RampScenes, with its sample. */
async function crops(augment: boolean): Promise<{ batch: BatchArrays; b: number; sample: Sample }[]> {
  const ds = new RampScenes();
  const cfg = resolveSearchConfig({ crop: 33, numClasses: 6, augment, baseScale: datasetBaseResize('cityscapes', 'search').scale });
  const sampler = new BatchSampler(ds, [0, 1, 2, 3], 2, 3, searchAugmentation(cfg));
  const out: { batch: BatchArrays; b: number; sample: Sample }[] = [];
  for (let epoch = 0; epoch < 4; epoch++) {
    for (let k = 0; k < sampler.batchesPerEpoch; k++) {
      const samples = await sampler.load(epoch, k);
      const batch = sampler.augmentBatch(epoch, k, samples);
      samples.forEach((sample, b) => out.push({ batch, b, sample }));
    }
  }
  return out;
}

describe('search data (Sec. 5.1)', () => {
  it('defaults: Cityscapes at half resolution, plain crops; the samplers are exactly that', () => {
    assert.deepEqual(datasetBaseResize('cityscapes', 'search'), { scale: 0.5, longerSide: 0 });
    assert.deepEqual(datasetBaseResize('cityscapes', 'train'), NO_RESIZE); // retrained on full-resolution 769 crops
    for (const name of ['builtin', 'voc', 'folder']) for (const p of ['search', 'train'] as const) assert.deepEqual(datasetBaseResize(name, p), NO_RESIZE);
    const cfg = resolveSearchConfig({ baseScale: 0.5 });
    assert.deepEqual(searchAugmentation(cfg), { crop: 321, scale: [1, 1], flip: false, base: { scale: 0.5, longerSide: 0 } });
    assert.deepEqual(searchAugmentation({ ...cfg, augment: true }), { crop: 321, scale: [0.75, 1.25], flip: true, base: { scale: 0.5, longerSide: 0 } });
  });

  it('with the defaults every search crop is an unflipped window of the half-resolution image, at varying offsets', async () => {
    const offsets = new Set<string>();
    for (const { batch, b, sample } of await crops(false)) {
      const half = halfResolution(sample);
      const found = windowsOf(batch, b, half, false);
      assert.equal(found.length, 1, `crop of ${sample.id} is not a window of the half-resolution image`);
      offsets.add(found[0].join(','));
      assert.ok(Math.abs(redSlope(batch, b) - 4) < 1e-3); // 2 per pixel at full resolution, not mirrored
    }
    assert.ok(offsets.size > 8, `only ${offsets.size} distinct crop offsets`);
  });

  it('augment: random scale 0.75-1.25 and flips come back', async () => {
    const slopes = (await crops(true)).map(({ batch, b }) => redSlope(batch, b));
    const flipped = slopes.filter((s) => s < 0).length;
    assert.ok(flipped > 3 && flipped < slopes.length - 3, `${flipped} of ${slopes.length} crops flipped`);
    const size = slopes.map(Math.abs);
    assert.ok(size.every((s) => s > 4 / 1.25 - 0.1 && s < 4 / 0.75 + 0.1), `slopes ${size}`); // a random scale s spreads the ramp to 4 / s
    assert.ok(Math.max(...size) / Math.min(...size) > 1.2, `slopes ${size}: no scaling`);
  });
});

describe('base resize of a dataset on disk', () => {
  let root: string;
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-resize-'));
  });
  after(() => fs.rmSync(root, { recursive: true }));

  it('ade20k: for search and training, images are resized so that the longer side is 513 (labels nearest)', async () => {
    const base = ['ade', 'ADEChallengeData2016'];
    // (w, h): landscape, portrait; odd sides, so that no resized pixel centre falls on a source pixel border (no ties).
    const sizes: [string, number, number][] = [['ADE_train_00000001', 41, 31], ['ADE_train_00000002', 25, 37]];
    for (const [id, w, h] of sizes) {
      await writeRgb(path.join(root, ...base, 'images', 'training', `${id}.jpg`), w, h);
      await writeMask(path.join(root, ...base, 'annotations', 'training', `${id}.png`), w, h); // raw (x + y) % 3: 0 ignored, 1, 2 -> classes 0, 1
    }
    const ds = openDataset('ade20k', { root: path.join(root, 'ade'), split: 'train' });
    for (const purpose of ['search', 'train'] as const) assert.deepEqual(datasetBaseResize('ade20k', purpose), { scale: 1, longerSide: 513 });
    const sampler = new BatchSampler(ds, [0, 1], 2, 0, { crop: 513, scale: [1, 1], flip: false, base: datasetBaseResize('ade20k', 'train') });
    const samples = await sampler.load(0, 0);
    const batch = sampler.augmentBatch(0, 0, samples);
    sampler.batchIndices(0, 0).forEach((i, b) => {
      const [, w, h] = sizes[i];
      const [rh, rw] = [Math.round((h * 513) / Math.max(w, h)), Math.round((w * 513) / Math.max(w, h))];
      assert.equal(Math.max(rh, rw), 513);
      // Oracle: each resized pixel takes the label of the source pixel whose area holds its centre; beyond the image, padding.
      for (let y = 0; y < 513; y++) {
        for (let x = 0; x < 513; x++) {
          const raw = (Math.floor(((x + 0.5) * w) / rw) + Math.floor(((y + 0.5) * h) / rh)) % 3;
          const expected = y < rh && x < rw ? (raw === 0 ? IGNORE_INDEX : raw - 1) : IGNORE_INDEX;
          if (batch.labels[(b * 513 + y) * 513 + x] !== expected) assert.fail(`sample ${i} (${w}x${h}) at (${x}, ${y}): label ${batch.labels[(b * 513 + y) * 513 + x]}, expected ${expected}`);
        }
      }
    });
  });

  it('search config.json records the base resize (cityscapes: 0.5) and the augmentation; flags override; a bad value exits 2', async () => {
    const cs = path.join(root, 'cs');
    for (let i = 0; i < 4; i++) {
      const id = `aachen_00000${i}_000019`;
      await writeRgb(path.join(cs, 'leftImg8bit', 'train', 'aachen', `${id}_leftImg8bit.png`), 64, 32, i);
      const labels = Buffer.from(Array.from({ length: 64 * 32 }, (_, p) => [7, 8, 26][p % 3]));
      fs.mkdirSync(path.join(cs, 'gtFine', 'train', 'aachen'), { recursive: true });
      await sharp(labels, { raw: { width: 64, height: 32, channels: 1 } }).png().toFile(path.join(cs, 'gtFine', 'train', 'aachen', `${id}_gtFine_labelIds.png`));
    }
    const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
    const search = (out: string, ...extra: string[]) => spawnSync(process.execPath, [CLI, 'search', '--dataset', 'cityscapes', '--data-root', cs,
      '--epochs', '1', '--arch-start-epoch', '0', '--crop', '33', '--layers', '1', '--blocks', '2', '--filter-multiplier', '1', '--threads', '1',
      '--max-iterations', '1', '--out', path.join(root, out), ...extra], { encoding: 'utf8', timeout: 120_000 });
    const config = (out: string) => JSON.parse(fs.readFileSync(path.join(root, out, 'config.json'), 'utf8'));
    let r = search('s1');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([config('s1').baseScale, config('s1').baseLongerSide, config('s1').augment], [0.5, 0, false]);
    r = search('s2', '--augment', '--base-scale', '1');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([config('s2').baseScale, config('s2').augment], [1, true]);
    r = search('s3', '--base-scale', '0');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--base-scale: field 'baseScale' must be in \(0, 4\], got 0/);
  });
});
