/**
 * From samples to batches: a base resize (the dataset's working resolution),
 * random scale, crop (padding with the ignore label), horizontal flip,
 * normalisation. Every random choice is a function of
 * (seed, epoch, sample), so batches are reproducible and a resumed run sees
 * exactly the batches the interrupted one would have.
 */
import * as T from '../engine';
import { Rng } from '../util/random';
import { hashSeed } from './builtin';
import { IGNORE_INDEX, NORMALIZE_MEAN, NORMALIZE_STD, Sample, SegmentationDataset } from './dataset';

/**
 * The resize every image gets before augmentation: the longer side to
 * `longerSide` pixels (0: unchanged; ADE20K: 513, Sec. 5.2.3), then by the
 * factor `scale` (half-resolution Cityscapes for the search: 0.5, Sec. 5.1).
 */
export interface BaseResize {
  scale: number;
  longerSide: number;
}

export const NO_RESIZE: Readonly<BaseResize> = Object.freeze({ scale: 1, longerSide: 0 });

export interface AugmentOptions {
  crop: number;
  /** Random scale range, relative to the base-resized image; [1, 1] turns scaling off. */
  scale: [number, number];
  flip: boolean;
  /** Default NO_RESIZE (the built-in scenes). */
  base?: BaseResize;
}

/** The factor of the base resize of an image of h x w (composed with the random scale into one resampling). */
export function baseFactor(h: number, w: number, base: BaseResize = NO_RESIZE): number {
  return (base.longerSide > 0 ? base.longerSide / Math.max(h, w) : 1) * base.scale;
}

/** Size of an h x w image resized by f: [height, width], at least 1 pixel each. */
export function scaledSize(h: number, w: number, f: number): [number, number] {
  return [Math.max(1, Math.round(h * f)), Math.max(1, Math.round(w * f))];
}

/** Bilinear resize of an interleaved RGB image (half-pixel centres, no antialiasing); nearest for labels. */
function resizeSample(s: Sample, h: number, w: number): Sample {
  if (h === s.height && w === s.width) return s;
  const image = new Uint8Array(h * w * 3);
  const label = new Uint8Array(h * w);
  const sy = s.height / h;
  const sx = s.width / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(s.height - 1, Math.floor(fy));
    const y1 = Math.min(s.height - 1, y0 + 1);
    const ly = fy - y0;
    const ny = Math.min(s.height - 1, Math.floor((y + 0.5) * sy));
    for (let x = 0; x < w; x++) {
      const fx = Math.max(0, (x + 0.5) * sx - 0.5);
      const x0 = Math.min(s.width - 1, Math.floor(fx));
      const x1 = Math.min(s.width - 1, x0 + 1);
      const lx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const v = (1 - ly) * ((1 - lx) * s.image[(y0 * s.width + x0) * 3 + c] + lx * s.image[(y0 * s.width + x1) * 3 + c]) +
          ly * ((1 - lx) * s.image[(y1 * s.width + x0) * 3 + c] + lx * s.image[(y1 * s.width + x1) * 3 + c]);
        image[(y * w + x) * 3 + c] = Math.round(v);
      }
      label[y * w + x] = s.label[ny * s.width + Math.min(s.width - 1, Math.floor((x + 0.5) * sx))];
    }
  }
  return { ...s, width: w, height: h, image, label };
}

/**
 * One augmented training crop: (3, crop, crop) normalised floats and (crop, crop)
 * labels. The base resize and the random scale are one resampling of the sample.
 */
export function augment(s: Sample, rng: Rng, o: AugmentOptions): { image: Float32Array; label: Uint8Array } {
  const scale = rng.uniform(o.scale[0], o.scale[1]);
  const r = resizeSample(s, ...scaledSize(s.height, s.width, baseFactor(s.height, s.width, o.base) * scale));
  const c = o.crop;
  const oy = r.height > c ? rng.int(r.height - c + 1) : 0;
  const ox = r.width > c ? rng.int(r.width - c + 1) : 0;
  const flip = o.flip && rng.next() < 0.5;
  const image = new Float32Array(3 * c * c);
  const label = new Uint8Array(c * c).fill(IGNORE_INDEX);
  for (let y = 0; y < c; y++) {
    for (let x = 0; x < c; x++) {
      const sy = y + oy;
      const sx = flip ? r.width - 1 - (x + ox) : x + ox;
      const inImage = sy < r.height && x + ox < r.width;
      for (let ch = 0; ch < 3; ch++) {
        // Padding is the mean colour, i.e. 0 after normalisation.
        image[(ch * c + y) * c + x] = inImage ? (r.image[(sy * r.width + sx) * 3 + ch] / 255 - NORMALIZE_MEAN[ch]) / NORMALIZE_STD[ch] : 0;
      }
      if (inImage) label[y * c + x] = r.label[sy * r.width + sx];
    }
  }
  return { image, label };
}

/** A whole image, normalised, no augmentation: (3, H, W). */
export function normalizeImage(s: Sample): Float32Array {
  const out = new Float32Array(3 * s.height * s.width);
  const n = s.height * s.width;
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = (s.image[p * 3 + c] / 255 - NORMALIZE_MEAN[c]) / NORMALIZE_STD[c];
  return out;
}

/** A batch as plain arrays: (B, 3, crop, crop) normalised floats and (B, crop, crop) class ids. */
export interface BatchArrays {
  images: Float32Array;
  labels: Uint8Array;
  size: number;
  crop: number;
}

/** Tensors of a batch (call inside a scope). */
export function toBatch(a: BatchArrays): Batch {
  const labels = T.cast(T.tensor(a.labels, [a.size, a.crop, a.crop], { dtype: 'uint8' }), 'int64');
  return { images: T.tensor(a.images, [a.size, 3, a.crop, a.crop]), labels };
}

export interface Batch {
  images: T.Tensor; // (B, 3, crop, crop)
  labels: T.Tensor; // (B, crop, crop) int64
}

/** Which share of the batches a process takes in a data-parallel job (rank 0 of 1: all of them). */
export interface Shard {
  rank: number;
  worldSize: number;
}

/**
 * Batches over a subset of a dataset (indices), shuffled per epoch by seed,
 * last partial batch dropped. Batch (epoch, k) is pure: same arguments, same batch.
 * With a shard (rank r of N, as PyTorch's DistributedSampler), batch k holds
 * the samples at positions (k * batchSize + j) * N + r of the epoch's seeded
 * order: the N ranks' batches k together are the global batch k (N x batchSize
 * consecutive positions), disjoint, and the same after a resume.
 */
export class BatchSampler {
  constructor(readonly dataset: SegmentationDataset, readonly indices: readonly number[], readonly batchSize: number,
    readonly seed: number, readonly augmentation: AugmentOptions, readonly shard: Shard = { rank: 0, worldSize: 1 }) {
    if (indices.length < batchSize * shard.worldSize) {
      throw new Error(`${dataset.name}: ${indices.length} samples cannot fill one batch of ${batchSize}${shard.worldSize > 1 ? ` on each of ${shard.worldSize} processes` : ''}`);
    }
  }

  get batchesPerEpoch(): number {
    return Math.floor(this.indices.length / (this.batchSize * this.shard.worldSize));
  }

  /** The sample indices of batch k of an epoch (this shard's). */
  batchIndices(epoch: number, k: number): number[] {
    const order = new Rng(hashSeed(this.seed, epoch, 0x0de4)).shuffle([...this.indices]);
    const { rank, worldSize } = this.shard;
    if (worldSize === 1) return order.slice(k * this.batchSize, (k + 1) * this.batchSize);
    return Array.from({ length: this.batchSize }, (_, j) => order[(k * this.batchSize + j) * worldSize + rank]);
  }

  /** Decodes the batch's samples (in parallel: sharp decodes off the main thread). */
  load(epoch: number, k: number): Promise<Sample[]> {
    return Promise.all(this.batchIndices(epoch, k).map((i) => this.dataset.get(i)));
  }

  /** Augments loaded samples into tensors (call inside a scope). */
  assemble(epoch: number, k: number, samples: Sample[]): Batch {
    return toBatch(this.augmentBatch(epoch, k, samples));
  }

  /** Augments loaded samples into plain arrays (no tensors: runs in worker threads too). */
  augmentBatch(epoch: number, k: number, samples: Sample[]): BatchArrays {
    const c = this.augmentation.crop;
    const idx = this.batchIndices(epoch, k);
    const images = new Float32Array(idx.length * 3 * c * c);
    const labels = new Uint8Array(idx.length * c * c);
    idx.forEach((i, b) => {
      const a = augment(samples[b], new Rng(hashSeed(this.seed, epoch, i, 0xa06)), this.augmentation);
      images.set(a.image, b * 3 * c * c);
      labels.set(a.label, b * c * c);
    });
    return { images, labels, size: idx.length, crop: c };
  }
}

/** Splits 0..n-1 into two disjoint halves by seed (trainA, trainB of Sec. 4.2). */
export function splitHalves(n: number, seed: number): { a: number[]; b: number[] } {
  const order = new Rng(hashSeed(seed, 0x5b1)).shuffle(Array.from({ length: n }, (_, i) => i));
  const half = Math.ceil(n / 2);
  return { a: order.slice(0, half).sort((x, y) => x - y), b: order.slice(half).sort((x, y) => x - y) };
}
