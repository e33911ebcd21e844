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
 *
 * (the run directory and the iteration loop are src/run's, shared with train).
 * In a data-parallel job (`parallel`, src/run/ddp.ts) each rank takes its
 * shard of every global batch of trainA and trainB, both steps average their
 * gradients over the ranks, the per-epoch evaluation shares out its batches,
 * and only rank 0 writes `out`.
 */
import * as os from 'node:os';
import * as T from '../engine';
import { BatchArrays, BatchSampler, splitHalves, toBatch } from '../data/pipeline';
import { derivedSplitsRecord } from '../data/dataset';
import { dataRootOf } from '../data/registry';
import { Checkpoint, prefixed, withPrefix } from '../run/checkpoint';
import { batchSource, RunOptions, runLoop } from '../run/loop';
import { RunDir } from '../run/run_dir';
import { agreeToStop, broadcastFromMain, FollowerRun, Parallel, requireSameWorld, RunWriter } from '../run/ddp';
import { cosineLr } from '../run/schedule';
import { archStep, weightStep } from './architect';
import { evaluateSupernet } from './evaluate';
import { SearchConfig, searchAugmentation } from './search_config';
import { Genotype } from '../arch/genotype';
import { genotypeFileText, searchGenotypeFiles } from '../arch/genotype_file';
import { Supernet } from './supernet';
import { alphaRows } from './decode';
import { checkSearchFits, chooseRecompute } from './search_memory';
import { restoreRngState, rngStateTensors } from '../run/device';
import { ranksHere } from '../run/launch';
import { writeFileAtomic } from '../util/files';
import { BadInputError, ConfigError } from '../util/errors';
import { ArchConstraint, CONSTRAINT_RECORD, SearchConstraint } from './constraint';

export interface SearchRunOptions extends RunOptions {
  config: SearchConfig;
  /** A constraint on the architecture (constraint.ts), e.g. a cost budget (src/budget/search_budget.ts: budgetConstraint). */
  constraint?: SearchConstraint;
  onIteration?: (p: IterationReport) => void;
  /** Choices made at the start for the user to read (recompute 'auto'). */
  onNote?: (line: string) => void;
  /** This rank's place in a data-parallel job (--batch-size is then per rank: the global batch is worldSize times it). */
  parallel?: Parallel;
  /** Sees the final network before it is freed (tests compare the ranks' weights). */
  onEnd?: (net: Supernet) => void | Promise<void>;
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

/** Mean entropy of probability rows (zeros ignored). */
function meanEntropy(rows: number[][]): number {
  const h = rows.map((r) => -r.reduce((s, p) => (p > 0 ? s + p * Math.log(p) : s), 0));
  return h.reduce((a, b) => a + b, 0) / Math.max(1, h.length);
}

/**
 * genotype.json (and, at an epoch end, genotypes/epoch-NNN.json): the decoded
 * architecture with the normalised alpha and beta it was decoded from.
 */
function writeGenotype(out: string, net: Supernet, at: { epoch: number; iteration: number }, epochEnd: boolean,
  decoded: { genotype: Genotype; state?: object } = { genotype: net.genotype() }): Genotype {
  const { genotype, state } = decoded;
  const text = genotypeFileText(genotype, { ...at, ...net.snapshot(), ...(state ? { [CONSTRAINT_RECORD]: state } : {}) });
  for (const file of searchGenotypeFiles(out, epochEnd ? at.epoch : undefined)) writeFileAtomic(file, text);
  return genotype;
}

/** Every half of the split must fill a (global) batch; the message names the flag (a sampler alone would only name the dataset). */
function requireBatches(halves: [string, number][], batchSize: number, datasetName: string, worldSize: number): void {
  for (const [what, n] of halves) {
    if (n < batchSize * worldSize) {
      const batch = worldSize > 1 ? `${batchSize} x ${worldSize} processes (the global batch)` : String(batchSize);
      throw new ConfigError(`--batch-size: ${batch} is larger than ${what} (${n} images of dataset '${datasetName}'); use a smaller batch or a larger dataset`);
    }
  }
}

export async function runSearch(o: SearchRunOptions): Promise<SearchResult> {
  if (o.dataset.numClasses !== o.config.numClasses) {
    throw new BadInputError(`search: config.numClasses is ${o.config.numClasses} but dataset '${o.dataset.name}' has ${o.dataset.numClasses} classes`);
  }
  if (o.parallel && o.parallel.rank > 0) return searchIn(new FollowerRun(o.out), o);
  return RunDir.with(o.out, (run) => searchIn(run, o));
}

async function searchIn(run: RunWriter, o: SearchRunOptions): Promise<SearchResult> {
  const cfg = o.config;
  const par = o.parallel ?? { rank: 0, worldSize: 1 };
  T.setNumThreads(cfg.threads);
  T.manualSeed(cfg.seed);
  const net = new Supernet(cfg, { archInitScale: cfg.archInitScale });
  const ranks = ranksHere(o.parallel !== undefined);
  const mode = chooseRecompute(cfg, net.weights.count(), os.totalmem(), ranks);
  net.recompute = mode.recompute;
  o.onNote?.(mode.why);
  checkSearchFits({ ...cfg, recompute: mode.recompute }, net.weights.count(), os.totalmem(), ranks); // before the first step, not in the OOM killer's hands
  const constraint: ArchConstraint | null = o.constraint?.attach(cfg, net) ?? null; // a budget refuses when nothing fits
  const wOpt = new T.SGD(net.weights.parameters(), { lr: cfg.weightLr, momentum: cfg.weightMomentum, weightDecay: cfg.weightDecay });
  const aOpt = new T.Adam(net.archParameters(), { lr: cfg.archLr, betas: cfg.archBetas, weightDecay: cfg.archWeightDecay });
  const { a, b } = splitHalves(o.dataset.length, cfg.seed);
  requireBatches([['trainA, half the training split', a.length], ['trainB, the other half', b.length]], cfg.batchSize, o.dataset.name, par.worldSize);
  const train = searchAugmentation(cfg);
  const samplerA = new BatchSampler(o.dataset, a, cfg.batchSize, cfg.seed, train, par);
  const samplerB = new BatchSampler(o.dataset, b, cfg.batchSize, cfg.seed + 1, train, par);
  const evalB = new BatchSampler(o.dataset, b, cfg.batchSize, cfg.seed + 2, { ...train, scale: [1, 1], flip: false });
  const perEpoch = samplerA.batchesPerEpoch;
  const total = cfg.epochs * perEpoch;
  const phaseOf = (epoch: number) => (epoch < cfg.archStartEpoch ? 'warmup' : 'search');

  let from = 0;
  if (o.resume) {
    from = T.tidy(() => {
      const ck = run.resume('search', 'search', { config: cfg as unknown as Record<string, unknown>, [CONSTRAINT_RECORD]: (o.constraint?.resumable ?? {}) as Record<string, unknown> });
      requireSameWorld('search', run.checkpointFile, ck.meta, par);
      restoreSearchState(net, ck, run.checkpointFile, wOpt, aOpt);
      restoreRngState(ck.tensors, T.getDefaultDevice());
      return ck.iteration;
    });
  } else {
    run.begin({ ...cfg, dataset: o.dataset.name, ...dataRootOf(o.dataset), datasetSize: o.dataset.length, ...derivedSplitsRecord(o.dataset), device: T.getDefaultDevice(), ...(o.constraint ? { [CONSTRAINT_RECORD]: o.constraint.settings } : {}) });
  }
  // Every rank starts from rank 0's weights, BN statistics, alpha and beta (after a resume too).
  broadcastFromMain(par, [...Object.values(net.weights.stateDict()), ...net.archParameters()]);
  const [sourceA, sourceB] = [batchSource(samplerA, o.datasetSpec), batchSource(samplerB, o.datasetSpec)];
  try {
    const r = await runLoop<[BatchArrays, BatchArrays | null]>({
      run, from, total, maxIterations: o.maxIterations, checkpointEvery: o.checkpointEvery,
      shouldStop: par.worldSize > 1 ? () => agreeToStop(par, o.shouldStop?.() ?? false) : o.shouldStop,
      // Both batches are prepared off the main thread when a dataset spec is given.
      batch: (i) => {
        const [epoch, k] = [Math.floor(i / perEpoch), i % perEpoch];
        return Promise.all([sourceA.get(epoch, k), phaseOf(epoch) === 'search' ? sourceB.get(epoch, k % samplerB.batchesPerEpoch) : null]);
      },
      step: (i, [batchA, batchB]) => {
        wOpt.lr = cosineLr(cfg.weightLr, cfg.weightLrMin, i / total);
        const loss = T.tidy(() => weightStep(net, wOpt, toBatch(batchA), cfg.gradClip, par)); // losses averaged over the ranks
        const archLoss = batchB ? T.tidy(() => archStep(net, aOpt, toBatch(batchB), par, constraint ? (n) => constraint.addPenaltyGrad(n) : undefined)) : null;
        return { epoch: Math.floor(i / perEpoch), phase: phaseOf(Math.floor(i / perEpoch)), loss, archLoss, lr: wOpt.lr };
      },
      onLine: (l) => o.onIteration?.({
        epoch: l.epoch as number, iteration: l.iteration, totalIterations: total, phase: l.phase as IterationReport['phase'],
        loss: l.loss as number, archLoss: l.archLoss as number | null, seconds: l.seconds,
      }),
      after: async (done) => {
        if (done % perEpoch !== 0) return false;
        const epoch = done / perEpoch - 1;
        broadcastFromMain(par, net.weights.buffers().map(([, t]) => t)); // the batches are shared out: every rank uses rank 0's BN statistics
        const ev = await evaluateSupernet(net, evalB, cfg.numClasses, par);
        const snap = net.snapshot();
        const decoded = constraint?.decode(net);
        const genotype = par.rank === 0 ? writeGenotype(o.out, net, { epoch, iteration: done }, true, decoded) : (decoded?.genotype ?? net.genotype());
        run.metrics.append({
          type: 'epoch', epoch, iteration: done, phase: phaseOf(epoch), valLoss: ev.loss, mIoU: ev.mIoU, pixelAccuracy: ev.pixelAccuracy,
          alphaEntropy: meanEntropy(alphaRows(snap.alpha)), betaEntropy: meanEntropy(snap.beta.flat().filter((row) => row.some((v) => v > 0))), genotype,
          ...(decoded ? { [CONSTRAINT_RECORD]: decoded.state } : {}),
        });
        return true; // a checkpoint at every epoch end
      },
      save: (done) => {
        // The small result before the large checkpoint: a full disk that refuses the checkpoint still leaves
        // genotype.json of this state (an epoch's end wrote it in `after`, with its epoch file).
        if (par.rank === 0 && done % perEpoch !== 0) writeGenotype(o.out, net, { epoch: Math.floor(done / perEpoch), iteration: done }, false, constraint?.decode(net));
        T.tidy(() => run.save(searchCheckpoint(net, wOpt, aOpt, cfg, done, perEpoch, par.worldSize, o.constraint?.resumable)));
      },
    });
    const epochsDone = Math.floor(r.iterations / perEpoch);
    // Stopped: genotype.json describes the architecture as it stands (the path printed exists; also after --max-iterations 0).
    const genotype = r.completed || par.rank > 0 ? (constraint?.decode(net).genotype ?? net.genotype())
      : writeGenotype(o.out, net, { epoch: epochsDone, iteration: r.iterations }, false, constraint?.decode(net));
    await o.onEnd?.(net);
    return { genotype, completed: r.completed, iterations: r.iterations, epochsDone, out: o.out };
  } finally {
    net.dispose();
    wOpt.dispose();
    aOpt.dispose();
    await Promise.all([sourceA.close(), sourceB.close()]);
  }
}

/** The state from which the run continues after `done` iterations (epoch and k kept for readers of the format). */
function searchCheckpoint(net: Supernet, wOpt: T.SGD, aOpt: T.Adam, cfg: SearchConfig, done: number, perEpoch: number, worldSize: number, constraint?: object): Checkpoint {
  const w = wOpt.stateDict();
  const ar = aOpt.stateDict();
  return {
    tensors: {
      ...prefixed(net.weights.stateDict(), 'weights.'), alpha: net.alpha, beta: net.beta,
      ...prefixed(w.tensors, 'optim.weights.'), ...prefixed(ar.tensors, 'optim.arch.'), ...rngStateTensors(T.getDefaultDevice()),
    },
    meta: {
      kind: 'search', version: 1, epoch: Math.floor(done / perEpoch), k: done % perEpoch, iteration: done, config: cfg,
      ...(worldSize > 1 ? { worldSize } : {}),
      optimizers: { weights: w.meta, arch: ar.meta }, ...(constraint ? { [CONSTRAINT_RECORD]: constraint } : {}),
    },
  };
}

/** Loads weights, alpha, beta (and, given them, both optimisers) from a search checkpoint. */
export function restoreSearchState(net: Supernet, ck: Checkpoint, file: string, wOpt?: T.SGD, aOpt?: T.Adam): void {
  net.weights.loadStateDict(withPrefix(ck.tensors, 'weights.'), file);
  T.noGrad(() => {
    T.assign(net.alpha, ck.tensors.alpha);
    T.assign(net.beta, ck.tensors.beta);
  });
  const metas = ck.meta.optimizers as Record<string, Record<string, unknown>>;
  wOpt?.loadStateDict({ tensors: withPrefix(ck.tensors, 'optim.weights.'), meta: metas.weights });
  aOpt?.loadStateDict({ tensors: withPrefix(ck.tensors, 'optim.arch.'), meta: metas.arch });
}
