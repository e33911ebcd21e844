/** Worker thread: decodes and augments the batches WorkerSource asks for. */
import { parentPort, workerData } from 'node:worker_threads';
import { BatchSampler } from './pipeline';
import { describeFailure, SamplerSpec, samplerOf } from './prefetch';

// Opened on the first request rather than at start-up, so that an error opening the dataset
// reaches the main thread as an answer to that request, with its class, instead of killing the worker.
let sampler: BatchSampler | null = null;

parentPort!.on('message', async (m: { key: string; epoch: number; k: number }) => {
  try {
    sampler ??= samplerOf(workerData as SamplerSpec);
    const batch = sampler.augmentBatch(m.epoch, m.k, await sampler.load(m.epoch, m.k));
    parentPort!.postMessage({ key: m.key, batch }, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ key: m.key, error: describeFailure(e) });
  }
});
