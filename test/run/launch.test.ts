/**
 * Local ranks never run away (issue 22, item 1), with real processes: --nproc
 * beyond the cores or the memory exits 2 at once naming it; SIGTERM and
 * SIGKILL to the launcher leave no rank alive within seconds, in the CLI's
 * training and with ranks blocked in native code (dist_worker.js 'blocked').
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkNprocFits, laterFailure, PROCESS_BYTES, ranksHere } from '../../src/run/launch';
import { ranksOf } from '../ddp_helpers';

const CLI = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const WORKER = path.join(__dirname, '..', 'engine', 'dist_worker.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-launch-'));
const started = new Set<ChildProcess>();
after(() => {
  started.forEach((c) => c.kill('SIGKILL'));
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Ran { code: number | null; signal: string | null; stderr: string; ms: number }

/** node ARGS, killed after limitMs; watch(child, stderr) is called on each chunk of its stderr. */
function run(args: string[], limitMs: number, watch?: (child: ChildProcess, stderr: string) => void): { child: ChildProcess; done: Promise<Ran> } {
  const t0 = Date.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  started.add(child);
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
    watch?.(child, stderr);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  const done = new Promise<Ran>((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(timer);
    started.delete(child);
    resolve({ code, signal, stderr, ms: Date.now() - t0 });
  }));
  return { child, done };
}

const alive = (pid: number) => { try { process.kill(pid, 0); return !/State:\s+Z/.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; } };

/** Waits up to limitMs for every pid to be gone; kills and returns the ones left. */
async function leftAfter(pids: number[], limitMs: number): Promise<number[]> {
  const t0 = Date.now();
  while (pids.some(alive) && Date.now() - t0 < limitMs) await new Promise((res) => setTimeout(res, 100));
  const left = pids.filter(alive);
  left.forEach((pid) => process.kill(pid, 'SIGKILL'));
  return left;
}

describe('--nproc is bounded by this machine', () => {
  const cores = os.availableParallelism();
  for (const command of ['train', 'search', 'eval']) {
    it(`${command} --nproc ${cores + 1} (more than the ${cores} cores) exits 2 at once, naming --nproc and the limit, starting no rank`, async () => {
      const r = await run([CLI, command, '--nproc', String(cores + 1), '--threads', '1', '--checkpoint', CLI], 30_000).done;
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`--nproc.*expected an integer in 1\\.\\.${cores} \\(the cores of this machine`));
      assert.ok(r.ms < 15_000, `took ${r.ms} ms`);
    });
  }

  it('a rank\'s bad input (exit 2) is the job\'s exit code even when a peer whose collective it broke was reaped first', () => {
    // Seen in CI: rank 0 refused a resume with other settings (exit 2); rank 1, blocked in a broadcast with it,
    // exited 1 on the closed connection, and the launcher reaped rank 1 first.
    assert.deepEqual(laterFailure({ code: 1, failedRank: 1 }, 0, 2), { code: 2, failedRank: 0 });
    assert.deepEqual(laterFailure({ code: 2, failedRank: 0 }, 1, 1), { code: 2, failedRank: 0 });
    assert.deepEqual(laterFailure({ code: 2, failedRank: 1 }, 0, 2), { code: 2, failedRank: 1 });
    assert.deepEqual(laterFailure({ code: 1, failedRank: 1 }, 0, 1), { code: 1, failedRank: 1 });
    assert.deepEqual(laterFailure({ code: 1, failedRank: 1 }, 0, null), { code: 1, failedRank: 1 });
  });

  it('N ranks of B bytes each fit when N B <= 90% of the memory (closed form), else exit 2 naming --nproc and how many fit', () => {
    checkNprocFits(9, 1e9, 'x', 10e9);
    assert.throws(() => checkNprocFits(10, 1e9, 'one rank', 10e9), /^BadInputError: --nproc: 10 processes need about 10\.0 GB of memory \(1\.0 GB each: one rank\) but this machine has 10\.0 GB; at most 9 fit$/);
    assert.throws(() => checkNprocFits(1, 20e9, 'x', 10e9), /at most 0 fit/);
  });

  it('the ranks sharing this machine\'s memory: LOCAL_WORLD_SIZE in a job, else 1', () => {
    assert.equal(ranksHere(true, { LOCAL_WORLD_SIZE: '4' }), 4);
    assert.equal(ranksHere(false, { LOCAL_WORLD_SIZE: '4' }), 1);
    assert.equal(ranksHere(true, {}), 1);
    assert.equal(ranksHere(true, { LOCAL_WORLD_SIZE: 'x' }), 1);
  });

  it('train --nproc 2 whose two batches exceed the memory (one would fit) exits 2 naming --nproc, starting no rank', async (t) => {
    if (os.availableParallelism() < 2) return t.skip('needs 2 cores for --nproc 2');
    const batch = 2;
    // Each rank's floor is PROCESS_BYTES + batch crop^2 20 bytes: the smallest crop over 45% of the memory.
    const crop = Math.ceil(Math.sqrt((0.45 * os.totalmem() - PROCESS_BYTES) / (batch * 20))) + 1;
    assert.ok(PROCESS_BYTES + batch * crop ** 2 * 20 <= 0.9 * os.totalmem(), 'one rank fits');
    const r = await run([CLI, 'train', '--nproc', '2', '--threads', '2', '--crop', String(crop), '--batch-size', String(batch), '--out', path.join(dir, 'big')], 60_000).done;
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--nproc: 2 processes need about .* GB of memory \(.* each: a process and its batch\) but this machine has .*; at most 1 fit/);
    assert.doesNotMatch(r.stderr, /\[rank 1\]/);
  });
});

describe('ranks never outlive their launcher', () => {
  const train = (out: string) => [CLI, 'train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2', '--iterations', '500',
    '--builtin-size', '8', '--builtin-image-size', '48', '--checkpoint-every', '0', '--threads', '2', '--out', out, '--nproc', '2'];

  /** Starts `args`; once both ranks run (`ready` on stderr), sends the launcher `signal`; returns the ranks' pids and the launcher's end. */
  async function signalLauncher(args: string[], ready: RegExp, signal: NodeJS.Signals): Promise<{ ranks: number[]; launcher: Ran }> {
    let ranks: number[] = [];
    const { done } = run(args, 120_000, (child, stderr) => {
      if (ranks.length || !ready.test(stderr)) return;
      const found = ranksOf(child.pid!);
      if (found.size < 2) return;
      ranks = [...found.values()];
      child.kill(signal);
    });
    const launcher = await done;
    assert.equal(ranks.length, 2, `the ranks never got going: ${launcher.stderr}`);
    return { ranks, launcher };
  }

  it('train --nproc 2: SIGTERM to the launcher stops both ranks (as Ctrl-C) within seconds', async () => {
    const { ranks, launcher } = await signalLauncher(train(path.join(dir, 'term')), /train \d+\/500/, 'SIGTERM');
    assert.deepEqual(await leftAfter(ranks, 10_000), [], 'ranks alive 10 s after SIGTERM');
    assert.equal(launcher.signal, null, launcher.stderr);
    assert.match(launcher.stderr, /train: stopping after this iteration/);
  });

  it('train --nproc 2: SIGKILL to the launcher makes both ranks exit within seconds', async () => {
    const { ranks, launcher } = await signalLauncher(train(path.join(dir, 'kill')), /train \d+\/500/, 'SIGKILL');
    assert.equal(launcher.signal, 'SIGKILL');
    assert.deepEqual(await leftAfter(ranks, 5000), [], 'ranks alive 5 s after their launcher was killed');
  });

  it('ranks blocked in native code die when their launcher is killed (SIGKILL): a worker thread watches it', async () => {
    const { ranks } = await signalLauncher([WORKER, 'launch', 'blocked'], /rank 0 ready[\s\S]*rank 1 ready|rank 1 ready[\s\S]*rank 0 ready/, 'SIGKILL');
    assert.deepEqual(await leftAfter(ranks, 5000), [], 'blocked ranks alive 5 s after their launcher was killed');
  });

  it('ranks blocked in native code, deaf to SIGTERM, are killed termGraceMs after a SIGTERM to the launcher, which then exits', async () => {
    const { ranks, launcher } = await signalLauncher([WORKER, 'launch', 'blocked'], /rank 0 ready[\s\S]*rank 1 ready|rank 1 ready[\s\S]*rank 0 ready/, 'SIGTERM');
    assert.equal(launcher.signal, null, launcher.stderr);
    assert.ok(launcher.ms < 20_000, `the launcher took ${launcher.ms} ms (grace 2000 ms, ranks blocked 30 s)`);
    assert.deepEqual(await leftAfter(ranks, 1000), []);
  });
});
