/**
 * Retraining a decoded architecture (Sec. 5.2): SGD with momentum, poly LR
 * from 0.05 (power 0.9), random scale / crop / flip, scheduled drop path,
 * batch norm trained. Writes to `out`: config.json, metrics.jsonl (one line
 * per iteration, one per validation), checkpoint.safetensors (atomically;
 * the model, its genotype and settings, the optimiser, the counters) and
 * model.safetensors (the weights and what `eval` needs to rebuild them).
 * In a data-parallel job (`parallel`, src/run/ddp.ts) every rank trains on
 * its shard of each global batch with gradients averaged over the ranks;
 * only rank 0 writes `out`.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../engine';
import { derivedSplitsRecord, IGNORE_INDEX, SegmentationDataset } from '../data/dataset';
import { BatchSampler, toBatch } from '../data/pipeline';
import { dataRootOf } from '../data/registry';
import { evaluateDataset } from '../eval/evaluate';
import { AutoDeepLab, ModelConfig } from '../model/network';
import { prefixed, withPrefix } from '../run/checkpoint';
import { batchSource, RunOptions, runLoop } from '../run/loop';
import { RunDir } from '../run/run_dir';
import { agreeToStop, averageGradients, broadcastFromMain, FollowerRun, Parallel, requireSameWorld, RunWriter } from '../run/ddp';
import { saveModel } from '../model/saved';
import { TrainConfig } from './train_config';
import { polyLr } from '../run/schedule';
import { restoreRngState, rngStateTensors } from '../run/device';
import { ranksHere } from '../run/launch';
import { checkTrainFits } from './train_memory';
import { BadInputError, ConfigError } from '../util/errors';

export interface TrainRunOptions extends RunOptions {
  model: ModelConfig;
  train: TrainConfig;
  valDataset?: SegmentationDataset;
  /** This rank's place in a data-parallel job (--batch-size is then per rank: the global batch is worldSize times it). */
  parallel?: Parallel;
  onIteration?: (r: { iteration: number; total: number; loss: number; lr: number; seconds: number }) => void;
}

export interface TrainResult {
  iterations: number;
  completed: boolean;
  model: AutoDeepLab;
  lastEval: Record<string, unknown> | null;
}

export async function runTraining(o: TrainRunOptions): Promise<TrainResult> {
  if (o.model.numClasses !== o.dataset.numClasses) {
    throw new BadInputError(`train: the model has ${o.model.numClasses} classes but dataset '${o.dataset.name}' has ${o.dataset.numClasses}`);
  }
  if (o.parallel && o.parallel.rank > 0) return trainIn(new FollowerRun(o.out), o);
  return RunDir.with(o.out, (run) => trainIn(run, o));
}

async function trainIn(run: RunWriter, o: TrainRunOptions): Promise<TrainResult> {
  const c = o.train;
  const par = o.parallel ?? { rank: 0, worldSize: 1 };
  T.setNumThreads(c.threads);
  T.manualSeed(c.seed);
  const model = new AutoDeepLab(o.model);
  checkTrainFits(model, c.crop, c.batchSize, os.totalmem(), ranksHere(o.parallel !== undefined)); // before the first step, not in the OOM killer's hands
  const opt = new T.SGD(model.weights.parameters(), { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const indices = Array.from({ length: o.dataset.length }, (_, i) => i);
  if (indices.length < c.batchSize * par.worldSize) {
    const what = par.worldSize > 1 ? `${c.batchSize} x ${par.worldSize} processes (the global batch)` : String(c.batchSize);
    throw new ConfigError(`--batch-size: ${what} is larger than the ${o.dataset.length} images of dataset '${o.dataset.name}'; use a smaller batch or a larger dataset`);
  }
  const sampler = new BatchSampler(o.dataset, indices, c.batchSize, c.seed, { crop: c.crop, scale: c.scale, flip: true, base: { scale: c.baseScale, longerSide: c.baseLongerSide } }, par);
  let from = 0;
  if (o.resume) {
    from = T.tidy(() => {
      const ck = run.resume('train', 'train', { model: o.model as unknown as Record<string, unknown>, train: c as unknown as Record<string, unknown> });
      model.weights.loadStateDict(withPrefix(ck.tensors, 'model.'), run.checkpointFile);
      opt.loadStateDict({ tensors: withPrefix(ck.tensors, 'optim.'), meta: ck.meta.optimizer as Record<string, unknown> });
      restoreRngState(ck.tensors, T.getDefaultDevice());
      requireSameWorld('train', run.checkpointFile, ck.meta, par);
      return ck.iteration;
    });
  } else {
    run.begin({ model: o.model, train: c, dataset: o.dataset.name, ...dataRootOf(o.dataset), ...derivedSplitsRecord(o.dataset, o.valDataset) });
  }
  // Every rank starts from rank 0's weights and BN statistics (after a resume too).
  broadcastFromMain(par, Object.values(model.weights.stateDict()));
  let lastEval: Record<string, unknown> | null = null;
  const validate = async (iteration: number): Promise<Record<string, unknown> | null> => {
    if (!o.valDataset) return null;
    broadcastFromMain(par, model.weights.buffers().map(([, t]) => t)); // the images are sharded: every rank uses rank 0's BN statistics
    const r = await evaluateDataset((x) => model.forward(x, false), o.valDataset, { scales: [1], flip: false }, undefined, c.evalImages, par, o.shouldStop);
    if (r.stopped) return null; // Ctrl-C: a validation of part of the images is no figure to log
    const rec = { type: 'validation', iteration, mIoU: r.mIoU, pixelAccuracy: r.pixelAccuracy, perClassIoU: r.perClassIoU };
    run.metrics.append(rec);
    return rec;
  };
  const source = batchSource(sampler, o.datasetSpec); // prepared ahead in a worker thread when datasetSpec is given
  const perEpoch = sampler.batchesPerEpoch;
  try {
    const r = await runLoop({
      run, from, total: c.iterations, maxIterations: o.maxIterations, checkpointEvery: o.checkpointEvery,
      shouldStop: par.worldSize > 1 ? () => agreeToStop(par, o.shouldStop?.() ?? false) : o.shouldStop,
      batch: (i) => source.get(Math.floor(i / perEpoch), i % perEpoch),
      step: (i, arrays) => {
        opt.lr = polyLr(c.lr, c.power, i / c.iterations);
        const dropPathProgress = i / c.iterations; // drop-path ramp, passed in: the model keeps no training state
        const loss = T.tidy(() => {
          const b = toBatch(arrays);
          opt.zeroGrad();
          const l = T.crossEntropy(model.forward(b.images, true, { dropPathProgress }), b.labels, { ignoreIndex: IGNORE_INDEX });
          T.backward(l);
          const mean = averageGradients(par, opt.params, l.item()); // gradients (and the logged loss) averaged over the ranks
          opt.step();
          opt.zeroGrad();
          return mean;
        });
        return { loss, lr: opt.lr };
      },
      onLine: (l) => o.onIteration?.({ iteration: l.iteration, total: c.iterations, loss: l.loss as number, lr: l.lr as number, seconds: l.seconds }),
      after: async (done) => {
        if (c.evalEvery > 0 && done % c.evalEvery === 0 && done < c.iterations) lastEval = await validate(done);
        return false;
      },
      save: (done) => T.tidy(() => {
        const s = opt.stateDict();
        run.save({
          tensors: { ...prefixed(model.weights.stateDict(), 'model.'), ...prefixed(s.tensors, 'optim.'), ...rngStateTensors(T.getDefaultDevice()) },
          meta: { kind: 'train', version: 1, iteration: done, ...(par.worldSize > 1 ? { worldSize: par.worldSize } : {}), model: o.model, train: c, optimizer: s.meta, classNames: o.dataset.classNames, palette: o.dataset.palette },
        });
      }),
    });
    if (r.completed) {
      lastEval = (await validate(r.iterations)) ?? lastEval;
      if (par.rank === 0) saveModel(path.join(o.out, 'model.safetensors'), model, o.dataset);
    }
    return { iterations: r.iterations, completed: r.completed, model, lastEval };
  } finally {
    opt.dispose();
    await source.close();
  }
}
