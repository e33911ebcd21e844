/**
 * 2-rank data-parallel searches for test/search/search_ddp.test.ts, real
 * processes: `node search_ddp_worker.js OUT` launches two ranks of itself
 * (launchLocal); each rank runs one search per variant of SETUP (rank 0
 * writes OUT/<variant>) and dumps its own weights, BN statistics, alpha and
 * beta to OUT/<variant>/rank-R.safetensors, and the trainB evaluation of its
 * final network, shared out and on its own, to OUT/<variant>/eval-R.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { BatchSampler, splitHalves } from '../../src/data/pipeline';
import { openDataset } from '../../src/data/registry';
import { broadcastFromMain, joinJob, leaveJob } from '../../src/run/ddp';
import { workerMain } from '../ddp_helpers';
import { resolveSearchConfig, SearchConfig, searchAugmentation } from '../../src/search/search_config';
import { evaluateSupernet } from '../../src/search/evaluate';
import { runSearch } from '../../src/search/run_search';

/** The runs both the job and the test's single-process oracle use: the per-segment path, and the clipped path without recompute. */
export const SETUP = {
  dataset: { root: undefined, split: 'train', builtinSize: 16, builtinImageSize: 40, seed: 0 },
  base: { layers: 2, blocks: 2, filterMultiplier: 2, levels: 3, crop: 32, batchSize: 2, epochs: 3, archStartEpoch: 1, seed: 0, threads: 1 },
  variants: {
    segments: { recompute: true, gradClip: 0 },
    clipped: { recompute: false, gradClip: 0.05 },
  } as Record<string, Partial<SearchConfig>>,
};

export function configOf(variant: string, numClasses: number): SearchConfig {
  return resolveSearchConfig({ ...SETUP.base, ...SETUP.variants[variant], numClasses });
}

/** The per-epoch evaluation batches of runSearch (trainB, no augmentation). */
export function evalSampler(cfg: SearchConfig, dataset: ReturnType<typeof openDataset>): BatchSampler {
  const { b } = splitHalves(dataset.length, cfg.seed);
  return new BatchSampler(dataset, b, cfg.batchSize, cfg.seed + 2, { ...searchAugmentation(cfg), scale: [1, 1], flip: false });
}

async function rank(out: string): Promise<void> {
  const parallel = await joinJob('cpu');
  if (!parallel) throw new Error('no RANK/WORLD_SIZE in the environment');
  const dataset = openDataset('builtin', SETUP.dataset);
  for (const variant of Object.keys(SETUP.variants)) {
    const dir = path.join(out, variant);
    const config = configOf(variant, dataset.numClasses);
    await runSearch({
      config, dataset, out: dir, parallel, checkpointEvery: 1e6,
      datasetSpec: { name: 'builtin', options: SETUP.dataset }, // the batches come from the prefetch worker, sharded there
      onEnd: async (net) => {
        fs.mkdirSync(dir, { recursive: true });
        T.saveSafetensors(path.join(dir, `rank-${parallel.rank}.safetensors`), { ...net.weights.stateDict(), alpha: net.alpha, beta: net.beta });
        broadcastFromMain(parallel, net.weights.buffers().map(([, t]) => t));
        const sampler = evalSampler(config, dataset);
        const shared = await evaluateSupernet(net, sampler, config.numClasses, parallel);
        const alone = await evaluateSupernet(net, sampler, config.numClasses);
        fs.writeFileSync(path.join(dir, `eval-${parallel.rank}.json`), JSON.stringify({ shared, alone }));
      },
    });
  }
  leaveJob();
}

if (require.main === module) workerMain(__filename, 'search_ddp_worker', rank);
