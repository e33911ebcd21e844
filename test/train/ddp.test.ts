/**
 * Data-parallel training and evaluation with real processes on 127.0.0.1
 * (Gloo): a 2-rank job against a single-process oracle that runs the same
 * per-rank batches and averages their gradients; `eval --nproc 2` against
 * `eval`; a rank killed mid-train ending `train --nproc 2`, then a resume.
 * Every process is bounded in time and killed at the end.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { maxAbsDiff, ranksOf } from '../ddp_helpers';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { IGNORE_INDEX } from '../../src/data/dataset';
import { BatchSampler, toBatch } from '../../src/data/pipeline';
import { openDataset } from '../../src/data/registry';
import { evaluateDataset } from '../../src/eval/evaluate';
import { loadModel } from '../../src/model/saved';
import { AutoDeepLab } from '../../src/model/network';
import { polyLr } from '../../src/run/schedule';
import { resolveTrainConfig } from '../../src/train/train_config';
import { SETUP } from './ddp_worker';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = path.join(__dirname, 'ddp_worker.js');
const started = new Set<ChildProcess>();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-ddp-'));
after(() => {
  started.forEach((c) => c.kill('SIGKILL'));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Ran { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number }

/** node ARGS, killed after limitMs; onStderr sees the output so far. */
function run(args: string[], limitMs: number, onOutput?: (child: ChildProcess) => void): Promise<Ran> {
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const poll = onOutput ? setInterval(() => onOutput(child), 200) : null;
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    if (poll) clearInterval(poll);
    started.delete(child);
    resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
  }));
}


/**
 * The oracle: one process, one model; each iteration runs rank 0's and rank 1's
 * batches one after the other, averages their gradients and steps. BN
 * statistics are per process in the job: the oracle keeps rank 0's.
 */
async function oracle(): Promise<Record<string, T.Tensor>> {
  T.setNumThreads(1);
  const dataset = openDataset('builtin', SETUP.dataset);
  const c = resolveTrainConfig(SETUP.train);
  T.manualSeed(c.seed);
  const model = new AutoDeepLab(SETUP.model(dataset.numClasses));
  const params = model.weights.parameters();
  const opt = new T.SGD(params, { lr: c.lr, momentum: c.momentum, weightDecay: c.weightDecay });
  const indices = Array.from({ length: dataset.length }, (_, i) => i);
  const samplers = [0, 1].map((rank) => new BatchSampler(dataset, indices, c.batchSize, c.seed, { crop: c.crop, scale: c.scale, flip: true }, { rank, worldSize: 2 }));
  const perEpoch = samplers[0].batchesPerEpoch;
  for (let i = 0; i < c.iterations; i++) {
    const [e, k] = [Math.floor(i / perEpoch), i % perEpoch];
    opt.lr = polyLr(c.lr, c.power, i / c.iterations);
    const grads: T.Tensor[][] = [];
    let rank0Stats: T.Tensor[] = [];
    for (const [r, s] of samplers.entries()) {
      const arrays = s.augmentBatch(e, k, await s.load(e, k));
      T.tidy(() => {
        const b = toBatch(arrays);
        opt.zeroGrad();
        T.backward(T.crossEntropy(model.forward(b.images, true, { dropPathProgress: i / c.iterations }), b.labels, { ignoreIndex: IGNORE_INDEX }));
        grads.push(params.map((p) => T.clone(p.grad!).keep()));
      });
      if (r === 0) rank0Stats = model.weights.buffers().map(([, t]) => T.clone(t).keep());
    }
    T.noGrad(() => model.weights.buffers().forEach(([, t], j) => T.assign(t, rank0Stats[j])));
    T.tidy(() => {
      params.forEach((p, j) => (p.grad = T.div(T.add(grads[0][j], grads[1][j]), 2)));
      opt.step();
      opt.zeroGrad();
    });
    T.dispose([...grads.flat(), ...rank0Stats]);
  }
  opt.dispose();
  return model.weights.stateDict();
}

describe('data-parallel training and evaluation (2 processes, Gloo)', () => {
  const job = path.join(dir, 'job');
  let ran: Ran;
  before(async () => {
    ran = await run([WORKER, job], 240_000);
  });

  it('2 ranks x 4 steps: the weights of one process averaging the same per-rank batches\' gradients; both ranks identical', async () => {
    assert.equal(ran.code, 0, ran.stderr);
    const ranks = [0, 1].map((r) => T.loadSafetensors(path.join(job, `rank-${r}.safetensors`)).tensors);
    const want = await oracle();
    const names = Object.keys(want);
    const paramNames = names.filter((n) => !/running_|num_batches/.test(n));
    assert.ok(paramNames.length > 10 && paramNames.length < names.length, 'parameters and BN statistics are both there');
    for (const n of names) {
      const got0 = ranks[0][n].toArray();
      const d = maxAbsDiff(got0, want[n].toArray());
      assert.ok(d <= 1e-5, `${n}: rank 0 differs from the oracle by ${d}`);
    }
    for (const n of paramNames) assert.deepEqual(ranks[1][n].toArray(), ranks[0][n].toArray(), `${n}: the ranks' parameters differ`);
    // Rank 0 wrote the run directory: the model, the checkpoint (which records the job's size) and 4 metrics lines.
    const model = T.loadSafetensors(path.join(job, 'model.safetensors')).tensors;
    for (const n of paramNames) assert.deepEqual(model[n].toArray(), ranks[0][n].toArray(), n);
    const lines = fs.readFileSync(path.join(job, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.iteration), [1, 2, 3, 4, 4]);
    // The final validation (images shared by the ranks, rank 0's BN statistics) is that of the saved model on one process.
    const saved = loadModel(path.join(job, 'model.safetensors'));
    const single = await evaluateDataset((x) => saved.model.forward(x, false), openDataset('builtin', SETUP.val), { scales: [1], flip: false });
    saved.model.weights.dispose();
    const { mIoU, pixelAccuracy, perClassIoU } = single;
    assert.deepEqual(lines[4], { type: 'validation', iteration: 4, mIoU, pixelAccuracy, perClassIoU });
    assert.match(T.loadSafetensors(path.join(job, 'checkpoint.safetensors')).metadata.autodeeplab, /"worldSize":2/);
  });

  it('eval --nproc 2 prints exactly the JSON of eval on one process (5 images: uneven shards)', async () => {
    assert.equal(ran.code, 0, ran.stderr);
    const args = [CLI, 'eval', '--checkpoint', path.join(job, 'model.safetensors'), '--builtin-size', '5', '--builtin-image-size', '48', '--json'];
    const [one, two] = await Promise.all([run([...args, '--threads', '1'], 120_000), run([...args, '--nproc', '2', '--threads', '2'], 120_000)]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(two.code, 0, two.stderr);
    const [a, b] = [JSON.parse(one.stdout), JSON.parse(two.stdout)];
    assert.equal(a.images, 5);
    assert.ok(a.confusionMatrix.flat().reduce((s: number, x: number) => s + x, 0) > 5 * 40 * 40, 'pixels counted');
    assert.deepEqual(b, a);
  });
});

describe('train --nproc 2: faults and stops', () => {
  const args = (out: string) => [CLI, 'train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2', '--iterations', '30',
    '--builtin-size', '8', '--builtin-image-size', '48', '--bn-momentum', '0.1', '--checkpoint-every', '0', '--threads', '2', '--out', out, '--nproc', '2'];
  /** Runs the job and, once rank 0 has logged iteration 2, sends rank 1 (only) the signal. */
  async function signalRank1(out: string, signal: NodeJS.Signals): Promise<Ran & { sentAt: number }> {
    let sentAt = 0;
    const r = await run(args(out), 120_000, (child) => {
      if (sentAt || !fs.existsSync(path.join(out, 'metrics.jsonl'))) return;
      if (!fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').includes('"iteration":2')) return;
      const rank1 = ranksOf(child.pid!).get(1);
      if (rank1 === undefined) return;
      process.kill(rank1, signal);
      sentAt = Date.now();
    });
    assert.ok(sentAt > 0, `rank 1 never got ${signal} (the run ended first?): ${r.stderr}`);
    return { ...r, sentAt };
  }

  it('a rank killed mid-run ends the job with exit 1 naming it, well within the timeout; --resume then completes', async () => {
    const out = path.join(dir, 'killed');
    const r = await signalRank1(out, 'SIGKILL');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rank 1 was killed by SIGKILL; stopping the other 1 rank/);
    assert.ok(Date.now() - r.sentAt < 20_000, `the job took ${Date.now() - r.sentAt} ms to end after the kill`);
    const resumed = await run([...args(out), '--resume'], 180_000);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /train finished after 30 iterations/);
    assert.ok(fs.existsSync(path.join(out, 'model.safetensors')));
    // Bad input found inside the ranks (a resume with other settings) stays exit 2 under --nproc.
    const other = await run([...args(out), '--resume', '--lr', '0.01'], 120_000);
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /train --resume: .* was written with other settings \(train\.lr: saved 0\.05, now 0\.01\)/);
  });

  it('Ctrl-C on rank 1 alone stops both ranks after the same iteration (agreed), with a checkpoint, exit 0', async () => {
    const out = path.join(dir, 'stopped');
    const r = await signalRank1(out, 'SIGINT');
    assert.equal(r.code, 0, r.stderr);
    const stopped = /train stopped after (\d+) iterations/.exec(r.stdout);
    assert.ok(stopped, r.stdout + r.stderr);
    const n = Number(stopped[1]);
    assert.ok(n >= 2 && n < 30, `stopped after ${n}`);
    assert.match(T.loadSafetensors(path.join(out, 'checkpoint.safetensors')).metadata.autodeeplab, new RegExp(`"iteration":${n}\\b`));
    assert.ok(!fs.existsSync(path.join(out, 'model.safetensors')));
    assert.doesNotMatch(r.stderr, /\[rank 1\] .*stopping after this iteration/, 'rank 1 printed nothing');
  });
});
