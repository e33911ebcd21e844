/**
 * Data-parallel search with real processes on 127.0.0.1 (Gloo): 2-rank jobs
 * (the per-segment path with recompute, and the clipped path without it)
 * against a single-process oracle that runs the same per-rank batches and
 * averages their gradients in both steps; a rank killed mid-search ending
 * `search --nproc 2`, then a resume; the refusals (a global batch too large,
 * a resume with another job size). Every process is bounded in time and
 * killed at the end.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { maxAbsDiff, ranksOf } from '../ddp_helpers';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { BatchSampler, splitHalves, toBatch } from '../../src/data/pipeline';
import { searchAugmentation } from '../../src/search/search_config';
import { openDataset } from '../../src/data/registry';
import { clipGradNorm } from '../../src/run/grad';
import { MetricsLog } from '../../src/run/metrics_log';
import { cosineLr } from '../../src/run/schedule';
import { segmentationLoss } from '../../src/search/architect';
import { evaluateSupernet } from '../../src/search/evaluate';
import { runSearch } from '../../src/search/run_search';
import { Supernet } from '../../src/search/supernet';
import { ConfigError } from '../../src/util/errors';
import { configOf, evalSampler, SETUP } from './search_ddp_worker';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = path.join(__dirname, 'search_ddp_worker.js');
const started = new Set<ChildProcess>();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-search-ddp-'));
after(() => {
  started.forEach((c) => c.kill('SIGKILL'));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Ran { code: number | null; stdout: string; stderr: string }

/** node ARGS, killed after limitMs; onPoll sees the child every 100 ms. */
function run(args: string[], limitMs: number, onPoll?: (child: ChildProcess) => void): Promise<Ran> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const poll = onPoll ? setInterval(() => onPoll(child), 100) : null;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer);
    if (poll) clearInterval(poll);
    started.delete(child);
    resolve({ code, stdout, stderr });
  }));
}


interface OracleRun { state: Record<string, T.Tensor>; losses: number[]; archLosses: number[]; valLosses: number[] }

/**
 * The oracle: one process, one supernet. Each iteration runs rank 0's and
 * rank 1's trainA batches one after the other, averages their weight
 * gradients (then clips them) and steps SGD over all weights at once; then the
 * same with their trainB batches for alpha and beta and Adam. BN statistics
 * are per process in the job: the oracle keeps rank 0's. Each batch's
 * gradients come from net.lossAndGrad, as in a rank (recomputed in the
 * segments variant): recomputed and plain gradients differ in rounding only
 * (test/search/recompute.test.ts), but this tiny supernet learns fast enough
 * to amplify a 1e-7 rounding difference to 1e-2 within six steps.
 */
async function oracle(variant: string): Promise<OracleRun> {
  T.setNumThreads(1);
  const dataset = openDataset('builtin', SETUP.dataset);
  const cfg = configOf(variant, dataset.numClasses);
  T.manualSeed(cfg.seed);
  const net = new Supernet(cfg, { archInitScale: cfg.archInitScale, recompute: cfg.recompute === true }) // the variants set it explicitly;
  const [weights, arch] = [net.weights.parameters(), net.archParameters()];
  const wOpt = new T.SGD(weights, { lr: cfg.weightLr, momentum: cfg.weightMomentum, weightDecay: cfg.weightDecay });
  const aOpt = new T.Adam(arch, { lr: cfg.archLr, betas: cfg.archBetas, weightDecay: cfg.archWeightDecay });
  const buffers = net.weights.buffers().map(([, t]) => t);
  const { a, b } = splitHalves(dataset.length, cfg.seed);
  const augment = searchAugmentation(cfg); // what runSearch's samplers use
  const samplersOf = (indices: number[], seed: number) => [0, 1].map((rank) => new BatchSampler(dataset, indices, cfg.batchSize, seed, augment, { rank, worldSize: 2 }));
  const [A, B] = [samplersOf(a, cfg.seed), samplersOf(b, cfg.seed + 1)];
  /** Sets params' gradients to the mean of the two ranks' on their batch (e, k); returns the mean loss. */
  const averaged = async (samplers: BatchSampler[], e: number, k: number, params: T.Tensor[]): Promise<number> => {
    const grads: T.Tensor[][] = [];
    let loss = 0;
    let rank0Stats: T.Tensor[] = [];
    for (const [r, s] of samplers.entries()) {
      const arrays = s.augmentBatch(e, k, await s.load(e, k));
      if (r === 1) rank0Stats = buffers.map((t) => T.clone(t).keep());
      T.tidy(() => {
        [...weights, ...arch].forEach((p) => p.zeroGrad());
        const batch = toBatch(arrays);
        loss += net.lossAndGrad(batch.images, (logits) => segmentationLoss(logits, batch.labels)) / 2;
        grads.push(params.map((p) => T.clone(p.grad!).keep()));
      });
    }
    T.noGrad(() => buffers.forEach((t, j) => T.assign(t, rank0Stats[j])));
    T.tidy(() => params.forEach((p, j) => (p.grad = T.div(T.add(grads[0][j], grads[1][j]), 2))));
    T.dispose([...grads.flat(), ...rank0Stats]);
    return loss;
  };
  const perEpoch = A[0].batchesPerEpoch;
  const total = cfg.epochs * perEpoch;
  const eval_ = evalSampler(cfg, dataset);
  const out: OracleRun = { state: {}, losses: [], archLosses: [], valLosses: [] };
  for (let i = 0; i < total; i++) {
    const [e, k] = [Math.floor(i / perEpoch), i % perEpoch];
    wOpt.lr = cosineLr(cfg.weightLr, cfg.weightLrMin, i / total);
    out.losses.push(await averaged(A, e, k, weights));
    if (cfg.gradClip > 0) clipGradNorm(weights, cfg.gradClip);
    wOpt.step();
    if (e >= cfg.archStartEpoch) {
      out.archLosses.push(await averaged(B, e, k % B[0].batchesPerEpoch, arch));
      aOpt.step();
    }
    if ((i + 1) % perEpoch === 0) out.valLosses.push((await evaluateSupernet(net, eval_, cfg.numClasses)).loss);
  }
  out.state = { ...net.weights.stateDict(), alpha: net.alpha, beta: net.beta };
  wOpt.dispose();
  aOpt.dispose();
  return out;
}

describe('data-parallel search (2 processes, Gloo)', () => {
  const job = path.join(dir, 'job');
  let ran: Ran;
  before(async () => {
    ran = await run([WORKER, job], 240_000);
  });

  for (const variant of Object.keys(SETUP.variants)) {
    it(`${variant}: weights, BN statistics, alpha and beta equal an oracle averaging the same per-rank batches' gradients; both ranks identical`, async () => {
      assert.equal(ran.code, 0, ran.stderr);
      const out = path.join(job, variant);
      const ranks = [0, 1].map((r) => T.loadSafetensors(path.join(out, `rank-${r}.safetensors`)).tensors);
      const want = await oracle(variant);
      const names = Object.keys(want.state);
      assert.ok(names.includes('alpha') && names.includes('beta') && names.some((n) => /running_mean/.test(n)), 'alpha, beta and BN statistics are there');
      for (const n of names) {
        const d = maxAbsDiff(ranks[0][n].toArray(), want.state[n].toArray());
        assert.ok(d <= 1e-5, `${n}: rank 0 differs from the oracle by ${d}`);
      }
      for (const n of names.filter((x) => !/running_|num_batches/.test(x))) {
        assert.deepEqual(ranks[1][n].toArray(), ranks[0][n].toArray(), `${n}: the ranks' parameters differ`);
      }
      // Rank 0's log: the losses averaged over the ranks, the evaluation of one process over the same trainB batches.
      const lines = MetricsLog.read(path.join(out, 'metrics.jsonl'));
      const iters = lines.filter((l) => l.type === 'iteration');
      assert.ok(maxAbsDiff(iters.map((l) => l.loss as number), want.losses) <= 1e-5, 'weight-step losses');
      assert.ok(maxAbsDiff(iters.filter((l) => l.archLoss !== null).map((l) => l.archLoss as number), want.archLosses) <= 1e-5, 'architecture-step losses');
      assert.equal(want.archLosses.length, 4);
      const valLosses = lines.filter((l) => l.type === 'epoch').map((l) => l.valLoss as number);
      assert.equal(valLosses.length, 3);
      assert.ok(maxAbsDiff(valLosses, want.valLosses) <= 1e-4, `validation losses ${valLosses} vs ${want.valLosses}`);
      // The evaluation shared out over the ranks is exactly that of one process over all its batches, on both ranks.
      const evals = [0, 1].map((r) => JSON.parse(fs.readFileSync(path.join(out, `eval-${r}.json`), 'utf8')));
      for (const ev of evals) {
        assert.equal(ev.shared.mIoU, ev.alone.mIoU);
        assert.equal(ev.shared.pixelAccuracy, ev.alone.pixelAccuracy);
        assert.ok(Math.abs(ev.shared.loss - ev.alone.loss) < 1e-12);
      }
      assert.deepEqual(evals[1].shared, evals[0].shared);
      // Rank 0 wrote the run directory; the checkpoint records the job's size.
      assert.ok(fs.existsSync(path.join(out, 'genotype.json')));
      assert.match(T.loadSafetensors(path.join(out, 'checkpoint.safetensors')).metadata.autodeeplab, /"worldSize":2/);
      T.dispose([...Object.values(want.state), ...ranks.flatMap((r) => Object.values(r))]);
    });
  }

  it('refuses a global batch larger than trainA (ConfigError naming --batch-size) and a resume with another job size (naming --nproc)', async () => {
    const dataset = openDataset('builtin', { ...SETUP.dataset, builtinSize: 6 });
    const config = configOf('segments', dataset.numClasses);
    await assert.rejects(runSearch({ config, dataset, out: path.join(dir, 'big'), parallel: { rank: 0, worldSize: 2 } }),
      (e: Error) => e instanceof ConfigError && /--batch-size: 2 x 2 processes \(the global batch\) is larger than trainA/.test(e.message));
    assert.equal(ran.code, 0, ran.stderr);
    const full = openDataset('builtin', SETUP.dataset);
    await assert.rejects(runSearch({ config: configOf('segments', full.numClasses), dataset: full, out: path.join(job, 'segments'), resume: true }),
      /search --resume: .* was written by a job of 2 process\(es\), this one has 1; resume with --nproc 2/);
  });
});

describe('search --nproc 2: a killed rank', () => {
  it('ends the job with exit 1 naming the rank, well within the timeout; --resume then completes', async () => {
    const out = path.join(dir, 'killed');
    const args = [CLI, 'search', '--layers', '2', '--blocks', '2', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2',
      '--epochs', '8', '--arch-start-epoch', '1', '--builtin-size', '16', '--builtin-image-size', '48', '--checkpoint-every', '0',
      '--threads', '2', '--out', out, '--nproc', '2'];
    let sentAt = 0;
    const metrics = path.join(out, 'metrics.jsonl');
    const r = await run(args, 120_000, (child) => {
      if (sentAt || !fs.existsSync(metrics) || !fs.readFileSync(metrics, 'utf8').includes('"iteration":3')) return;
      const rank1 = ranksOf(child.pid!).get(1);
      if (rank1 === undefined) return;
      process.kill(rank1, 'SIGKILL');
      sentAt = Date.now();
    });
    assert.ok(sentAt > 0, `rank 1 was never killed (the run ended first?): ${r.stderr}`);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rank 1 was killed by SIGKILL; stopping the other 1 rank/);
    assert.ok(Date.now() - sentAt < 20_000, `the job took ${Date.now() - sentAt} ms to end after the kill`);
    const done = MetricsLog.read(metrics).filter((l) => l.type === 'iteration').length;
    assert.ok(done >= 3 && done < 16, `killed after ${done} of 16 iterations`);
    const resumed = await run([...args, '--resume'], 120_000);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /search finished after 16 iterations/);
    assert.deepEqual(MetricsLog.read(metrics).filter((l) => l.type === 'iteration').map((l) => l.iteration), Array.from({ length: 16 }, (_, i) => i + 1));
  });
});
