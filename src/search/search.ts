/**
 * The architecture search run (Sec. 4.2, 5.1): warm-up epochs of weight steps,
 * then alternating weight and architecture steps; per-epoch evaluation on
 * trainB, genotype and checkpoint. Everything a run writes goes to `out`:
 *
 *   config.json        the resolved configuration
 *   metrics.jsonl      one line per iteration and one per epoch
 *   genotype.json      the decoded architecture (+ alpha, beta), each epoch
 *   genotypes/epoch-NNN.json
 *   checkpoint.safetensors   weights, alpha, beta, both optimisers, counters
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../engine';
import { BatchSampler, splitHalves, toBatch } from '../data/pipeline';
import { BatchSource, InlineSource, WorkerSource } from '../data/prefetch';
import { DatasetOptions } from '../data/registry';
import { SegmentationDataset } from '../data/dataset';
import { ConfusionMatrix } from '../eval/metrics';
import { loadCheckpoint, prefixed, saveCheckpoint, withPrefix } from '../run/checkpoint';
import { MetricsLog } from '../run/metrics_log';
import { cosineLr } from '../run/schedule';
import { archStep, segmentationLoss, weightStep } from './architect';
import { SearchConfig } from './config';
import { Genotype, GENOTYPE_SCHEMA_ID } from '../arch/genotype';
import { Supernet } from './supernet';
import { writeFileAtomic } from '../util/files';
import { yieldToEventLoop } from '../util/async';

export interface SearchRunOptions {
  config: SearchConfig;
  dataset: SegmentationDataset;
  out: string;
  resume?: boolean;
  /** Stop (with a checkpoint) after this many iterations in total. */
  maxIterations?: number;
  /** Seconds between mid-epoch checkpoints. */
  checkpointEvery?: number;
  onIteration?: (p: IterationReport) => void;
  /** Polled between iterations; true stops the run cleanly (with a checkpoint). */
  shouldStop?: () => boolean;
  /** How to reopen the dataset in a worker thread: batches are then prepared there, ahead of time. */
  datasetSpec?: { name: string; options: DatasetOptions };
}

export interface IterationReport {
  epoch: number;
  iteration: number;
  totalIterations: number;
  phase: 'warmup' | 'search';
  loss: number;
  archLoss: number | null;
  seconds: number;
}

export interface SearchResult {
  genotype: Genotype;
  completed: boolean;
  iterations: number;
  epochsDone: number;
  out: string;
}

const CHECKPOINT = 'checkpoint.safetensors';


/** Mean entropy of probability rows (zeros ignored). */
function meanEntropy(rows: number[][]): number {
  const h = rows.map((r) => -r.reduce((s, p) => (p > 0 ? s + p * Math.log(p) : s), 0));
  return h.reduce((a, b) => a + b, 0) / Math.max(1, h.length);
}

export function archSnapshot(net: Supernet): { alpha: number[][]; beta: number[][][] } {
  const { cfg } = net;
  return T.noGrad(() => T.tidy(() => {
    const { alphaHat, betaHat } = net.normalized();
    const a = alphaHat.toArray();
    const b = betaHat.toArray();
    const alpha = Array.from({ length: alphaHat.shape[0] }, (_, e) => a.slice(e * 8, e * 8 + 8));
    const beta = Array.from({ length: cfg.layers }, (_, l) => Array.from({ length: cfg.levels }, (_, k) =>
      net.trellis.hasNode(l - 1, k) ? b.slice((l * cfg.levels + k) * 3, (l * cfg.levels + k) * 3 + 3) : [0, 0, 0]));
    return { alpha, beta };
  }));
}

/** Loss, mIoU and pixel accuracy on a sampler's deterministic batches (BN in evaluation mode). */
export async function evaluateSupernet(net: Supernet, sampler: BatchSampler, numClasses: number): Promise<{ loss: number; mIoU: number; pixelAccuracy: number }> {
  const cm = new ConfusionMatrix(numClasses);
  let loss = 0;
  const n = sampler.batchesPerEpoch;
  for (let k = 0; k < n; k++) {
    const samples = await sampler.load(0, k);
    T.noGrad(() => T.tidy(() => {
      const b = sampler.assemble(0, k, samples);
      const logits = net.forward(b.images, false);
      loss += segmentationLoss(logits, b.labels).item();
      cm.add(b.labels.toArray(), T.argmax(logits, 1).toArray());
    }));
  }
  return { loss: loss / n, mIoU: cm.meanIoU(), pixelAccuracy: cm.pixelAccuracy() };
}

function writeGenotype(out: string, net: Supernet, epoch: number): Genotype {
  const genotype = net.genotype();
  const record = { $schema: GENOTYPE_SCHEMA_ID, ...genotype, search: { epoch, ...archSnapshot(net) } };
  const text = JSON.stringify(record, null, 1) + '\n';
  fs.mkdirSync(path.join(out, 'genotypes'), { recursive: true });
  writeFileAtomic(path.join(out, 'genotypes', `epoch-${String(epoch).padStart(3, '0')}.json`), text);
  writeFileAtomic(path.join(out, 'genotype.json'), text);
  return genotype;
}

export async function runSearch(o: SearchRunOptions): Promise<SearchResult> {
  const cfg = o.config;
  if (o.dataset.numClasses !== cfg.numClasses) {
    throw new Error(`search: config.numClasses is ${cfg.numClasses} but dataset '${o.dataset.name}' has ${o.dataset.numClasses} classes`);
  }
  fs.mkdirSync(o.out, { recursive: true });
  T.setNumThreads(cfg.threads);
  T.manualSeed(cfg.seed);
  const net = new Supernet(cfg, cfg.archInitScale);
  const wOpt = new T.SGD(net.weights.parameters(), { lr: cfg.weightLr, momentum: cfg.weightMomentum, weightDecay: cfg.weightDecay });
  const aOpt = new T.Adam(net.archParameters(), { lr: cfg.archLr, betas: cfg.archBetas, weightDecay: cfg.archWeightDecay });
  const { a, b } = splitHalves(o.dataset.length, cfg.seed);
  const train = { crop: cfg.crop, scale: [0.75, 1.25] as [number, number], flip: true };
  const samplerA = new BatchSampler(o.dataset, a, cfg.batchSize, cfg.seed, train);
  const samplerB = new BatchSampler(o.dataset, b, cfg.batchSize, cfg.seed + 1, train);
  const evalB = new BatchSampler(o.dataset, b, cfg.batchSize, cfg.seed + 2, { crop: cfg.crop, scale: [1, 1], flip: false });
  const source = (s: BatchSampler): BatchSource => (o.datasetSpec
    ? new WorkerSource({ dataset: o.datasetSpec, indices: [...s.indices], batchSize: s.batchSize, seed: s.seed, augmentation: s.augmentation })
    : new InlineSource(s));
  const [sourceA, sourceB] = [source(samplerA), source(samplerB)];
  const perEpoch = samplerA.batchesPerEpoch;
  const total = cfg.epochs * perEpoch;
  const log = new MetricsLog(path.join(o.out, 'metrics.jsonl'));
  const ckFile = path.join(o.out, CHECKPOINT);

  let epoch = 0;
  let k = 0;
  let iteration = 0;
  if (o.resume) {
    if (!fs.existsSync(ckFile)) throw new Error(`search --resume: no ${CHECKPOINT} in ${o.out}`);
    ({ epoch, k, iteration } = T.tidy(() => {
      const ck = loadCheckpoint(ckFile);
      if (ck.meta.kind !== 'search') throw new Error(`${ckFile}: not a search checkpoint (kind ${String(ck.meta.kind)})`);
      const saved = JSON.stringify(ck.meta.config);
      if (saved !== JSON.stringify(cfg)) throw new Error(`${ckFile}: was written with another configuration; resume with the same flags (saved: ${saved})`);
      net.weights.loadStateDict(withPrefix(ck.tensors, 'weights.'), ckFile);
      T.noGrad(() => {
        T.assign(net.alpha, ck.tensors.alpha);
        T.assign(net.beta, ck.tensors.beta);
      });
      const metas = ck.meta.optimizers as Record<string, Record<string, unknown>>;
      wOpt.loadStateDict({ tensors: withPrefix(ck.tensors, 'optim.weights.'), meta: metas.weights });
      aOpt.loadStateDict({ tensors: withPrefix(ck.tensors, 'optim.arch.'), meta: metas.arch });
      T.setRngState(ck.tensors.rng);
      return ck.meta as { epoch: number; k: number; iteration: number };
    }));
    log.truncate((r) => (r.type === 'epoch' ? (r.epoch as number) < epoch : (r.iteration as number) <= iteration));
  } else {
    writeFileAtomic(path.join(o.out, 'config.json'), JSON.stringify({ ...cfg, dataset: o.dataset.name, datasetSize: o.dataset.length }, null, 2) + '\n');
    fs.writeFileSync(path.join(o.out, 'metrics.jsonl'), '');
  }

  /** Saves the state from which the run continues at (epoch atEpoch, batch atK). */
  const checkpoint = (atEpoch: number, atK: number) => T.tidy(() => {
    const w = wOpt.stateDict();
    const ar = aOpt.stateDict();
    saveCheckpoint(ckFile, {
      tensors: {
        ...prefixed(net.weights.stateDict(), 'weights.'), alpha: net.alpha, beta: net.beta,
        ...prefixed(w.tensors, 'optim.weights.'), ...prefixed(ar.tensors, 'optim.arch.'), rng: T.getRngState(),
      },
      meta: { kind: 'search', version: 1, epoch: atEpoch, k: atK, iteration, config: cfg, optimizers: { weights: w.meta, arch: ar.meta } },
    });
  });

  let lastCheckpoint = Date.now();
  let stopped = false;
  outer: for (; epoch < cfg.epochs; epoch++, k = 0) {
    const phase = epoch < cfg.archStartEpoch ? 'warmup' : 'search';
    for (; k < perEpoch; k++) {
      if ((o.maxIterations !== undefined && iteration >= o.maxIterations) || o.shouldStop?.()) {
        stopped = true;
        break outer;
      }
      await yieldToEventLoop(); // lets Ctrl-C / SIGTERM handlers run between iterations
      const t0 = process.hrtime.bigint();
      // Decoding runs off the main thread (sharp).
      const kb = k % samplerB.batchesPerEpoch;
      const [batchA, batchB] = await Promise.all([sourceA.get(epoch, k), phase === 'search' ? sourceB.get(epoch, kb) : Promise.resolve(null)]);
      const dataSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
      wOpt.lr = cosineLr(cfg.weightLr, cfg.weightLrMin, iteration / total);
      const loss = T.tidy(() => weightStep(net, wOpt, toBatch(batchA), cfg.gradClip, cfg.recompute));
      const archLoss = batchB ? T.tidy(() => archStep(net, aOpt, toBatch(batchB), cfg.recompute)) : null;
      iteration++;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      log.append({ type: 'iteration', epoch, iteration, phase, loss, archLoss, lr: wOpt.lr, seconds, dataSeconds, rssBytes: process.memoryUsage().rss });
      o.onIteration?.({ epoch, iteration, totalIterations: total, phase, loss, archLoss, seconds });
      if (Date.now() - lastCheckpoint > (o.checkpointEvery ?? 300) * 1000) {
        checkpoint(epoch, k + 1);
        lastCheckpoint = Date.now();
      }
    }
    const ev = await evaluateSupernet(net, evalB, cfg.numClasses);
    const snap = archSnapshot(net);
    const genotype = writeGenotype(o.out, net, epoch);
    log.append({
      type: 'epoch', epoch, iteration, phase, valLoss: ev.loss, mIoU: ev.mIoU, pixelAccuracy: ev.pixelAccuracy,
      alphaEntropy: meanEntropy(snap.alpha), betaEntropy: meanEntropy(snap.beta.flat().filter((r) => r.some((v) => v > 0))), genotype,
    });
    checkpoint(epoch + 1, 0);
    lastCheckpoint = Date.now();
  }
  if (stopped) checkpoint(epoch, k);
  const genotype = net.genotype();
  const epochsDone = epoch;
  net.dispose();
  wOpt.dispose();
  aOpt.dispose();
  await Promise.all([sourceA.close(), sourceB.close()]);
  return { genotype, completed: !stopped, iterations: iteration, epochsDone, out: o.out };
}
