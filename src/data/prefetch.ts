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
import { AugmentOptions, BatchArrays, BatchSampler, Shard } from './pipeline';
import { DatasetOptions, openDataset } from './registry';
import { DatasetError } from './readers/files';
import { BadInputError } from '../util/errors';

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
  /** This process's share of the batches (a data-parallel job). */
  shard?: Shard;
}

export function samplerOf(spec: SamplerSpec, dataset?: SegmentationDataset): BatchSampler {
  return new BatchSampler(dataset ?? openDataset(spec.dataset.name, spec.dataset.options), spec.indices, spec.batchSize, spec.seed, spec.augmentation, spec.shard);
}

export class InlineSource implements BatchSource {
  constructor(readonly sampler: BatchSampler) {}
  async get(epoch: number, k: number): Promise<BatchArrays> {
    return this.sampler.augmentBatch(epoch, k, await this.sampler.load(epoch, k));
  }
  async close(): Promise<void> {}
}

/** An error as it crosses the thread boundary: its class survives as `kind`, so exit codes do too. */
export interface WorkerFailure { kind: 'dataset' | 'input' | 'other'; message: string }

export function describeFailure(e: unknown): WorkerFailure {
  const message = e instanceof Error ? e.message : String(e);
  return { kind: e instanceof DatasetError ? 'dataset' : e instanceof BadInputError ? 'input' : 'other', message };
}

export function rebuildFailure(f: WorkerFailure): Error {
  return f.kind === 'dataset' ? new DatasetError(f.message) : f.kind === 'input' ? new BadInputError(f.message) : new Error(f.message);
}

interface Pending { resolve: (a: BatchArrays) => void; reject: (e: Error) => void; promise: Promise<BatchArrays> }

export class WorkerSource implements BatchSource {
  private readonly worker: Worker;
  private readonly pending = new Map<string, Pending>();
  private readonly perEpoch: number;
  /** Set once the worker is gone (crashed, exited or closed): every request then fails with it instead of waiting forever. */
  private dead: Error | null = null;
  /** Callers waiting on the worker; it keeps the process alive only while there are some. */
  private holds = 0;

  /** depth: batches kept in flight ahead of the one asked for. */
  constructor(spec: SamplerSpec, private readonly depth = 2) {
    this.perEpoch = Math.floor(spec.indices.length / (spec.batchSize * (spec.shard?.worldSize ?? 1)));
    this.worker = new Worker(path.join(__dirname, 'prefetch_worker.js'), { workerData: spec });
    this.worker.on('message', (m: { key: string; batch?: BatchArrays; error?: WorkerFailure }) => {
      const p = this.pending.get(m.key);
      if (!p) return;
      if (m.error) p.reject(rebuildFailure(m.error));
      else p.resolve(m.batch!);
    });
    this.worker.on('error', (e) => this.fail(e instanceof Error ? e : new Error(String(e))));
    this.worker.on('exit', (code) => this.fail(new Error(`batch prefetch worker exited (code ${code})`)));
    // Unreferenced while nobody waits: a crashed training loop cannot be kept alive by its worker.
    this.worker.unref();
  }

  /** The worker is gone: reject what waits on it and whatever is asked later. The first cause wins. */
  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pending.values()) p.reject(this.dead);
  }

  private hold(change: number): void {
    this.holds += change;
    if (this.holds > 0) this.worker.ref();
    else this.worker.unref();
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
      // A batch fetched ahead may fail before anyone asks for it: that is no unhandled rejection
      // (which would kill the process with a stack trace); the error is raised when the batch is asked for.
      promise.catch(() => {});
      p = { resolve, reject, promise };
      this.pending.set(key, p);
      if (this.dead) reject(this.dead);
      else this.worker.postMessage({ key, epoch, k });
    }
    return p.promise;
  }

  async get(epoch: number, k: number): Promise<BatchArrays> {
    const want = this.request(epoch, k);
    for (let d = 1; d <= this.depth; d++) {
      const n = epoch * this.perEpoch + k + d;
      this.request(Math.floor(n / this.perEpoch), n % this.perEpoch);
    }
    this.hold(+1);
    try {
      return await want;
    } finally {
      this.pending.delete(`${epoch}:${k}`);
      this.hold(-1);
    }
  }

  async close(): Promise<void> {
    // Held until terminated: otherwise an idle event loop would end the process before close() returns.
    this.hold(+1);
    this.fail(new Error('batch prefetch worker closed'));
    await this.worker.terminate();
    this.hold(-1);
  }
}
