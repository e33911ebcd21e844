/** Worker-thread batches are exactly the inline ones, arrive ahead of time, and fail as the inline ones would. */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BatchSampler } from '../../src/data/pipeline';
import { InlineSource, SamplerSpec, samplerOf, WorkerSource } from '../../src/data/prefetch';
import { DatasetError } from '../../src/data/readers/files';
import { folderDataset } from './fixtures';

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

describe('batch prefetching: faults in the worker thread', () => {
  const specOf = (root: string, batchSize = 2): SamplerSpec => ({
    dataset: { name: 'folder', options: { root, split: 'train' } },
    indices: [0, 1, 2, 3], batchSize, seed: 1, augmentation: { crop: 33, scale: [1, 1], flip: false },
  });
  // An unhandled rejection kills a CLI run with a stack trace: record any, and fail on them.
  const unhandled: unknown[] = [];
  const record = (e: unknown) => unhandled.push(e);
  before(() => process.on('unhandledRejection', record));
  after(() => process.off('unhandledRejection', record));

  it('a bad label, even in a batch fetched ahead, is a DatasetError naming file and pixel when its batch is asked for', async () => {
    const root = await folderDataset(4, 40, { 2: 'label-out-of-range' }, { allInTrain: true });
    const spec = specOf(root);
    const sampler = samplerOf(spec);
    const worker = new WorkerSource(spec, 2);
    // Batches in order over two epochs; the oracle says which ones hold sample 2.
    for (const [e, k] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
      const p = worker.get(e, k);
      if (sampler.batchIndices(e, k).includes(2)) {
        await assert.rejects(p, (err: Error) => err instanceof DatasetError && /masks\/s2\.png: label 9 at pixel \(5, 1\) is out of range/.test(err.message));
      } else {
        assert.equal((await p).size, 2);
      }
      // Let the batches fetched ahead settle before the next one is asked for.
      await new Promise((r) => setTimeout(r, 100));
    }
    await worker.close();
    assert.deepEqual(unhandled, []);
    fs.rmSync(root, { recursive: true });
  });

  it('a dataset that cannot be opened fails every request with a DatasetError instead of hanging', async () => {
    const worker = new WorkerSource(specOf(path.join(os.tmpdir(), 'adl-no-such-dataset')), 1);
    for (let k = 0; k < 2; k++) {
      await assert.rejects(worker.get(0, k), (err: Error) => err instanceof DatasetError && /adl-no-such-dataset\/images: folder not found/.test(err.message));
    }
    await worker.close();
    assert.deepEqual(unhandled, []);
  });

  it('a worker that goes away rejects the batch being waited for and every later one', async () => {
    const root = await folderDataset(4, 40, {}, { allInTrain: true });
    const worker = new WorkerSource(specOf(root), 2);
    const waiting = assert.rejects(worker.get(0, 0), /batch prefetch worker closed/);
    await worker.close();
    await waiting;
    await assert.rejects(worker.get(0, 1), /batch prefetch worker closed/);
    assert.deepEqual(unhandled, []);
    fs.rmSync(root, { recursive: true });
  });
});
