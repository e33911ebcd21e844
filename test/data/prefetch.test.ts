/** Worker-thread batches are exactly the inline ones, and arrive ahead of time. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { BatchSampler } from '../../src/data/pipeline';
import { InlineSource, SamplerSpec, samplerOf, WorkerSource } from '../../src/data/prefetch';

describe('batch prefetching', () => {
  it('a worker source yields the same batches as the inline one, across an epoch boundary', async () => {
    const spec: SamplerSpec = {
      dataset: { name: 'builtin', options: { split: 'train', builtinSize: 12, builtinImageSize: 40, seed: 3 } },
      indices: [0, 2, 4, 6, 8, 10, 11], batchSize: 3, seed: 5, augmentation: { crop: 32, scale: [0.75, 1.25], flip: true },
    };
    const sampler: BatchSampler = samplerOf(spec);
    const inline = new InlineSource(sampler);
    const worker = new WorkerSource(spec, 2);
    for (const [e, k] of [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0]]) {
      const [a, b] = await Promise.all([inline.get(e, k), worker.get(e, k)]);
      assert.deepEqual(b.images, a.images, `images of batch (${e}, ${k})`);
      assert.deepEqual(b.labels, a.labels, `labels of batch (${e}, ${k})`);
      assert.equal(b.size, 3);
    }
    await worker.close();
  });
});
