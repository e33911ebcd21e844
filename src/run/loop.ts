/**
 * The iteration loop shared by search and train: stop requests (Ctrl-C,
 * --max-iterations), a turn of the event loop between iterations, timing of
 * the data wait and the step, the metrics line, and checkpoints (when a hook
 * asks, every --checkpoint-every seconds, and at the end). Iteration i
 * (0-based) is logged as iteration i + 1; a checkpoint taken after n
 * iterations holds the state from which iteration n + 1 starts, with every
 * hook of iterations <= n done, so a resumed run repeats nothing.
 */
import { BatchSource, InlineSource, WorkerSource } from '../data/prefetch';
import { BatchSampler } from '../data/pipeline';
import { DatasetOptions } from '../data/registry';
import { SegmentationDataset } from '../data/dataset';
import { yieldToEventLoop } from '../util/async';
import { RunDir } from './run_dir';

/** What search and train take alike: where the run goes and how it stops. */
export interface RunOptions {
  dataset: SegmentationDataset;
  out: string;
  /** Continue from out's checkpoint (with the same settings). */
  resume?: boolean;
  /** Stop (with a checkpoint) after this many iterations in total. */
  maxIterations?: number;
  /** Seconds between checkpoints (default 300; 0: after every iteration). */
  checkpointEvery?: number;
  /** Polled between iterations; true stops the run cleanly (with a checkpoint). */
  shouldStop?: () => boolean;
  /** How to reopen the dataset in a worker thread: batches are then prepared there, ahead of time. */
  datasetSpec?: { name: string; options: DatasetOptions };
}

export interface IterationLine extends Record<string, unknown> {
  iteration: number;
  seconds: number;
  dataSeconds: number;
}

export interface LoopSpec<B> {
  /** Where the lines go (a data-parallel job's other ranks pass a log that writes nothing). */
  run: { metrics: Pick<RunDir['metrics'], 'append'> };
  /** Iterations already done (from the checkpoint when resuming). */
  from: number;
  total: number;
  maxIterations?: number;
  checkpointEvery?: number;
  shouldStop?: () => boolean;
  /** The data of iteration i (awaited: its wait is the line's dataSeconds). */
  batch(i: number): Promise<B>;
  /** Iteration i: its metrics fields (loss, lr, ...). */
  step(i: number, batch: B): Record<string, unknown>;
  /** After the line of iteration done - 1 is written: epoch ends, validation. True asks for a checkpoint now. */
  after?(done: number): Promise<boolean>;
  onLine?(line: IterationLine): void;
  /** Writes the checkpoint of the state after `done` iterations. */
  save(done: number): void;
}

export async function runLoop<B>(s: LoopSpec<B>): Promise<{ iterations: number; completed: boolean }> {
  let done = s.from;
  let savedAt = -1;
  let lastSave = Date.now();
  const save = () => {
    s.save(done); // a failed write (WriteError) stops the run here: the previous checkpoint is intact
    savedAt = done;
    lastSave = Date.now();
  };
  let stopped = false;
  while (done < s.total) {
    if ((s.maxIterations !== undefined && done >= s.maxIterations) || s.shouldStop?.()) {
      stopped = true;
      break;
    }
    await yieldToEventLoop(); // lets Ctrl-C / SIGTERM handlers run between iterations
    const t0 = process.hrtime.bigint();
    const batch = await s.batch(done);
    const dataSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const fields = s.step(done, batch);
    done++;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const line: IterationLine = { type: 'iteration', iteration: done, ...fields, seconds, dataSeconds, rssBytes: process.memoryUsage().rss };
    s.run.metrics.append(line);
    s.onLine?.(line);
    if (s.after && (await s.after(done))) save();
    else if (Date.now() - lastSave >= (s.checkpointEvery ?? 300) * 1000) save(); // >=: 0 means after every iteration
  }
  if (savedAt !== done) save();
  return { iterations: done, completed: !stopped };
}

/** Batches of a sampler, prepared in a worker thread (the dataset reopened there from its spec) or, without a spec, inline. */
export function batchSource(sampler: BatchSampler, spec?: { name: string; options: DatasetOptions }): BatchSource {
  return spec
    ? new WorkerSource({ dataset: spec, indices: [...sampler.indices], batchSize: sampler.batchSize, seed: sampler.seed, augmentation: sampler.augmentation, shard: sampler.shard })
    : new InlineSource(sampler);
}
