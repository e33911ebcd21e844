/**
 * Batch sources for the training loops. `InlineSource` decodes and augments
 * on the main thread when asked; `WorkerSource` does it in a worker thread
 * and keeps the next batches in flight, so that the engine does not wait.
 * Both give exactly the batches of BatchSampler(epoch, k): the randomness is
 * a function of (seed, epoch, sample).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { SegmentationDataset } from './dataset';
import { AugmentOptions, BatchArrays, BatchSampler } from './pipeline';
import { DatasetOptions, openDataset } from './registry';

export interface BatchSource {
  get(epoch: number, k: number): Promise<BatchArrays>;
  close(): Promise<void>;
}

/** What a worker needs to rebuild a sampler: the dataset by name and options, and the sampler's settings. */
export interface SamplerSpec {
  dataset: { name: string; options: DatasetOptions };
  indices: number[];
  batchSize: number;
  seed: number;
  augmentation: AugmentOptions;
}

export function samplerOf(spec: SamplerSpec, dataset?: SegmentationDataset): BatchSampler {
  return new BatchSampler(dataset ?? openDataset(spec.dataset.name, spec.dataset.options), spec.indices, spec.batchSize, spec.seed, spec.augmentation);
}

export class InlineSource implements BatchSource {
  constructor(readonly sampler: BatchSampler) {}
  async get(epoch: number, k: number): Promise<BatchArrays> {
    return this.sampler.augmentBatch(epoch, k, await this.sampler.load(epoch, k));
  }
  async close(): Promise<void> {}
}

export class WorkerSource implements BatchSource {
  private readonly worker: Worker;
  private readonly pending = new Map<string, { resolve: (a: BatchArrays) => void; reject: (e: Error) => void; promise: Promise<BatchArrays> }>();
  private readonly perEpoch: number;

  /** depth: batches kept in flight ahead of the one asked for. */
  constructor(spec: SamplerSpec, private readonly depth = 2) {
    this.perEpoch = Math.floor(spec.indices.length / spec.batchSize);
    this.worker = new Worker(path.join(__dirname, 'prefetch_worker.js'), { workerData: spec });
    this.worker.on('message', (m: { key: string; batch?: BatchArrays; error?: string }) => {
      const p = this.pending.get(m.key);
      if (!p) return;
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.batch!);
    });
    this.worker.on('error', (e) => {
      for (const p of this.pending.values()) p.reject(e);
    });
    // The worker holds the event loop only while batches are awaited: a crashed loop cannot hang the process.
    this.worker.unref();
  }

  private request(epoch: number, k: number): Promise<BatchArrays> {
    const key = `${epoch}:${k}`;
    let p = this.pending.get(key);
    if (!p) {
      let resolve!: (a: BatchArrays) => void;
      let reject!: (e: Error) => void;
      const promise = new Promise<BatchArrays>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      p = { resolve, reject, promise };
      this.pending.set(key, p);
      this.worker.postMessage({ key, epoch, k });
    }
    return p.promise;
  }

  async get(epoch: number, k: number): Promise<BatchArrays> {
    const want = this.request(epoch, k);
    for (let d = 1; d <= this.depth; d++) {
      const n = epoch * this.perEpoch + k + d;
      this.request(Math.floor(n / this.perEpoch), n % this.perEpoch);
    }
    this.worker.ref();
    try {
      return await want;
    } finally {
      this.pending.delete(`${epoch}:${k}`);
      this.worker.unref();
    }
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
