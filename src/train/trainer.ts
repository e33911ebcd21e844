/**
 * Retraining a decoded architecture (Sec. 5.2): SGD with momentum, poly LR
 * from 0.05 (power 0.9), random scale / crop / flip, scheduled drop path,
 * batch norm trained. Writes to `out`: config.json, metrics.jsonl (one line
 * per iteration, one per validation), checkpoint.safetensors (atomically;
 * the model, its genotype and settings, the optimiser, the counters) and
 * model.safetensors (the weights and what `eval` needs to rebuild them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../engine';
import { IGNORE_INDEX, SegmentationDataset } from '../data/dataset';
import { BatchSampler, toBatch } from '../data/pipeline';
import { InlineSource, WorkerSource } from '../data/prefetch';
import { DatasetOptions } from '../data/registry';
import { writeFileAtomic } from '../util/files';
import { evaluateDataset } from '../eval/evaluate';
import { AutoDeepLab, ModelConfig } from '../model/network';
import { loadCheckpoint, prefixed, saveCheckpoint, withPrefix } from '../run/checkpoint';
import { saveModel } from '../model/saved';
import { TrainConfig } from './config';
import { MetricsLog } from '../run/metrics_log';
import { polyLr } from '../run/schedule';
import { yieldToEventLoop } from '../util/async';

export interface TrainRunOptions {
  model: ModelConfig;
  train: TrainConfig;
  dataset: SegmentationDataset;
  valDataset?: SegmentationDataset;
  out: string;
  resume?: boolean;
  maxIterations?: number;
  checkpointEvery?: number;
  onIteration?: (r: { iteration: number; total: number; loss: number; lr: number; seconds: number }) => void;
  shouldStop?: () => boolean;
  /** How to reopen the dataset in a worker thread: batches are then prepared there, ahead of time. */
  datasetSpec?: { name: string; options: DatasetOptions };
}

export async function runTraining(o: TrainRunOptions): Promise<{ iterations: number; completed: boolean; model: AutoDeepLab; lastEval: Record<string, unknown> | null }> {
  const c = o.train;
  fs.mkdirSync(o.out, { recursive: true });
  T.setNumThreads(c.threads);
  T.manualSeed(c.seed);
  if (o.model.numClasses !== o.dataset.numClasses) {
    throw new Error(`train: the model has ${o.model.numClasses} classes but dataset '${o.dataset.name}' has ${o.dataset.numClasses}`);
  }
  const model = new AutoDeepLab(o.model);
  const opt = new T.SGD(model.weights.parameters(), { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const indices = Array.from({ length: o.dataset.length }, (_, i) => i);
  const sampler = new BatchSampler(o.dataset, indices, c.batchSize, c.seed, { crop: c.crop, scale: c.scale, flip: true });
  const source = o.datasetSpec
    ? new WorkerSource({ dataset: o.datasetSpec, indices, batchSize: c.batchSize, seed: c.seed, augmentation: sampler.augmentation })
    : new InlineSource(sampler);
  const log = new MetricsLog(path.join(o.out, 'metrics.jsonl'));
  const ckFile = path.join(o.out, 'checkpoint.safetensors');
  let iteration = 0;
  if (o.resume) {
    if (!fs.existsSync(ckFile)) throw new Error(`train --resume: no checkpoint.safetensors in ${o.out}`);
    iteration = T.tidy(() => {
      const ck = loadCheckpoint(ckFile);
      if (ck.meta.kind !== 'train') throw new Error(`${ckFile}: not a training checkpoint`);
      if (JSON.stringify(ck.meta.model) !== JSON.stringify(o.model) || JSON.stringify(ck.meta.train) !== JSON.stringify(c)) {
        throw new Error(`${ckFile}: was written for another model or settings; resume with the same flags`);
      }
      model.weights.loadStateDict(withPrefix(ck.tensors, 'model.'), ckFile);
      opt.loadStateDict({ tensors: withPrefix(ck.tensors, 'optim.'), meta: ck.meta.optimizer as Record<string, unknown> });
      T.setRngState(ck.tensors.rng);
      return ck.meta.iteration as number;
    });
    log.truncate((r) => (r.iteration as number) <= iteration);
  } else {
    writeFileAtomic(path.join(o.out, 'config.json'), JSON.stringify({ model: o.model, train: c, dataset: o.dataset.name }, null, 2) + '\n');
    fs.writeFileSync(path.join(o.out, 'metrics.jsonl'), '');
  }
  const checkpoint = () => T.tidy(() => {
    const s = opt.stateDict();
    saveCheckpoint(ckFile, {
      tensors: { ...prefixed(model.weights.stateDict(), 'model.'), ...prefixed(s.tensors, 'optim.'), rng: T.getRngState() },
      meta: { kind: 'train', version: 1, iteration, model: o.model, train: c, optimizer: s.meta, classNames: o.dataset.classNames, palette: o.dataset.palette },
    });
  });
  const validate = async (): Promise<Record<string, unknown> | null> => {
    if (!o.valDataset) return null;
    const r = await evaluateDataset((x) => model.forward(x, false), o.valDataset, { scales: [1], flip: false }, undefined, c.evalImages);
    const rec = { type: 'validation', iteration, mIoU: r.mIoU, pixelAccuracy: r.pixelAccuracy, perClassIoU: r.perClassIoU };
    log.append(rec);
    return rec;
  };
  let lastCheckpoint = Date.now();
  let lastEval: Record<string, unknown> | null = null;
  let stopped = false;
  const perEpoch = sampler.batchesPerEpoch;
  while (iteration < c.iterations) {
    if ((o.maxIterations !== undefined && iteration >= o.maxIterations) || o.shouldStop?.()) {
      stopped = true;
      break;
    }
    await yieldToEventLoop(); // lets Ctrl-C / SIGTERM handlers run between iterations
    const t0 = process.hrtime.bigint();
    const [epoch, k] = [Math.floor(iteration / perEpoch), iteration % perEpoch];
    const arrays = await source.get(epoch, k); // prepared ahead in a worker thread when datasetSpec is given
    const dataSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    opt.lr = polyLr(c.lr, c.power, iteration / c.iterations);
    const dropPathProgress = iteration / c.iterations; // drop-path ramp, passed in: the model keeps no training state
    const loss = T.tidy(() => {
      const b = toBatch(arrays);
      opt.zeroGrad();
      const l = T.crossEntropy(model.forward(b.images, true, { dropPathProgress }), b.labels, { ignoreIndex: IGNORE_INDEX });
      T.backward(l);
      opt.step();
      opt.zeroGrad();
      return l.item();
    });
    iteration++;
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    log.append({ type: 'iteration', iteration, loss, lr: opt.lr, seconds, dataSeconds, rssBytes: process.memoryUsage().rss });
    o.onIteration?.({ iteration, total: c.iterations, loss, lr: opt.lr, seconds });
    if (c.evalEvery > 0 && iteration % c.evalEvery === 0 && iteration < c.iterations) lastEval = await validate();
    if (Date.now() - lastCheckpoint > (o.checkpointEvery ?? 300) * 1000) {
      checkpoint();
      lastCheckpoint = Date.now();
    }
  }
  checkpoint();
  if (!stopped) {
    lastEval = (await validate()) ?? lastEval;
    saveModel(path.join(o.out, 'model.safetensors'), model, o.dataset);
  }
  opt.dispose();
  await source.close();
  return { iterations: iteration, completed: !stopped, model, lastEval };
}
