/** Worker thread: decodes and augments the batches WorkerSource asks for. */
import { parentPort, workerData } from 'node:worker_threads';
import { SamplerSpec, samplerOf } from './prefetch';

const sampler = samplerOf(workerData as SamplerSpec);

parentPort!.on('message', async (m: { key: string; epoch: number; k: number }) => {
  try {
    const batch = sampler.augmentBatch(m.epoch, m.k, await sampler.load(m.epoch, m.k));
    parentPort!.postMessage({ key: m.key, batch }, [batch.images.buffer as ArrayBuffer, batch.labels.buffer as ArrayBuffer]);
  } catch (e) {
    parentPort!.postMessage({ key: m.key, error: (e as Error).message });
  }
});
