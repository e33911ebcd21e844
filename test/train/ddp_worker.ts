/**
 * A 2-rank data-parallel training job for test/train/ddp.test.ts, real
 * processes: `node ddp_worker.js OUT` launches two ranks of itself
 * (launchLocal); each rank trains with runTraining (rank 0 writes OUT) and
 * then dumps its own weights and BN statistics to OUT/rank-R.safetensors,
 * which a rank other than 0 would otherwise never write.
 */
import * as path from 'node:path';
import * as T from '../../src/engine';
import { openDataset } from '../../src/data/registry';
import { modelConfig } from '../../src/model/presets';
import { joinJob, leaveJob } from '../../src/run/ddp';
import { workerMain } from '../ddp_helpers';
import { resolveTrainConfig } from '../../src/train/train_config';
import { runTraining } from '../../src/train/trainer';

/** The run both the job and the test's single-process oracle use. */
export const SETUP = {
  dataset: { root: undefined, split: 'train', builtinSize: 12, builtinImageSize: 48, seed: 0 },
  val: { root: undefined, split: 'val', builtinSize: 5, builtinImageSize: 48, seed: 0 },
  train: { iterations: 4, batchSize: 2, crop: 40, seed: 0, threads: 1, evalEvery: 0 },
  model: (numClasses: number) => modelConfig({ arch: 'autodeeplab-s', filterMultiplier: 2, numClasses, bn: { momentum: 0.1, eps: 1e-3 } }),
};

async function rank(out: string): Promise<void> {
  const parallel = await joinJob('cpu');
  if (!parallel) throw new Error('no RANK/WORLD_SIZE in the environment');
  const dataset = openDataset('builtin', SETUP.dataset);
  const train = resolveTrainConfig(SETUP.train);
  const r = await runTraining({
    model: SETUP.model(dataset.numClasses), train, dataset, out, parallel, checkpointEvery: 1e6, valDataset: openDataset('builtin', SETUP.val),
    datasetSpec: { name: 'builtin', options: SETUP.dataset }, // the batches come from the prefetch worker, sharded there
  });
  T.saveSafetensors(path.join(out, `rank-${parallel.rank}.safetensors`), r.model.weights.stateDict());
  r.model.weights.dispose();
  leaveJob();
}

if (require.main === module) workerMain(__filename, 'ddp_worker', rank);
