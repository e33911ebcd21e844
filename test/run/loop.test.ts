/** The shared run loop and run directory, against plain records of what they were asked to do. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLoop } from '../../src/run/loop';
import { RunDir } from '../../src/run/run_dir';
import { BadInputError } from '../../src/util/errors';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'adl-loop-'));

/** Runs the loop over a fake step; returns what it saved and logged. */
async function loop(o: { from?: number; total: number; max?: number; every?: number; epoch?: number; stopAt?: number }) {
  const out = tmp();
  const run = RunDir.acquire(out);
  run.begin({ test: true });
  const saves: number[] = [];
  const afters: number[] = [];
  let done = 0;
  const r = await runLoop({
    run, from: o.from ?? 0, total: o.total, maxIterations: o.max, checkpointEvery: o.every ?? 3600,
    shouldStop: () => o.stopAt !== undefined && done >= o.stopAt,
    batch: async (i) => i * 10,
    step: (i, b) => {
      assert.equal(b, i * 10);
      done = i + 1;
      return { value: i };
    },
    after: async (n) => {
      afters.push(n);
      return o.epoch !== undefined && n % o.epoch === 0;
    },
    save: (n) => saves.push(n),
  });
  const lines = run.metrics.file ? fs.readFileSync(run.metrics.file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  run.release();
  fs.rmSync(out, { recursive: true });
  return { r, saves, afters, lines };
}

describe('run loop', () => {
  it('logs iteration i + 1 for step i, runs the hook after each, checkpoints when it asks and at the end', async () => {
    const { r, saves, afters, lines } = await loop({ total: 7, epoch: 3 });
    assert.deepEqual(r, { iterations: 7, completed: true });
    assert.deepEqual(lines.map((l) => [l.iteration, l.value]), [[1, 0], [2, 1], [3, 2], [4, 3], [5, 4], [6, 5], [7, 6]]);
    for (const l of lines) for (const f of ['seconds', 'dataSeconds', 'rssBytes']) assert.equal(typeof l[f], 'number');
    assert.deepEqual(afters, [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(saves, [3, 6, 7]); // epoch ends, then the end (7 is not an epoch end)
  });

  it('an end that is also a hook checkpoint is saved once; --checkpoint-every 0 saves after every iteration', async () => {
    assert.deepEqual((await loop({ total: 6, epoch: 3 })).saves, [3, 6]);
    assert.deepEqual((await loop({ total: 4, every: 0 })).saves, [1, 2, 3, 4]);
  });

  it('stops at --max-iterations or a stop request with a checkpoint of the state reached; a resume starts there', async () => {
    const byMax = await loop({ total: 10, max: 4 });
    assert.deepEqual(byMax.r, { iterations: 4, completed: false });
    assert.deepEqual(byMax.saves, [4]);
    const byStop = await loop({ total: 10, stopAt: 2 });
    assert.deepEqual(byStop.r, { iterations: 2, completed: false });
    assert.deepEqual(byStop.saves, [2]);
    const resumed = await loop({ from: 4, total: 6 });
    assert.deepEqual(resumed.lines.map((l) => l.iteration), [5, 6]);
    assert.deepEqual(resumed.saves, [6]);
    const none = await loop({ total: 5, max: 0 });
    assert.deepEqual([none.r.iterations, none.saves, none.lines.length], [0, [0], 0]);
  });
});

describe('run directory', () => {
  it('a lock held by this (live) process refuses a second writer, naming the pid; release gives it back', () => {
    const out = tmp();
    const a = RunDir.acquire(out);
    assert.equal(fs.readFileSync(path.join(out, 'run.lock'), 'utf8').trim(), String(process.pid));
    // Another live process's lock: the parent of this test process holds none, but is alive.
    fs.writeFileSync(path.join(out, 'run.lock'), `${process.ppid}\n`);
    assert.throws(() => RunDir.acquire(out), (e: Error) => e instanceof BadInputError && e.message.includes(`in use by process ${process.ppid}`));
    a.release(); // not ours any more: left alone
    assert.ok(fs.existsSync(path.join(out, 'run.lock')));
    fs.writeFileSync(path.join(out, 'run.lock'), '2147483646\n'); // no such process: stale
    const b = RunDir.acquire(out);
    b.release();
    assert.ok(!fs.existsSync(path.join(out, 'run.lock')));
    fs.rmSync(out, { recursive: true });
  });

  it('--out under a regular file is bad input naming the file', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'f'), 'x');
    assert.throws(() => RunDir.acquire(path.join(dir, 'f', 'run')), (e: Error) => e instanceof BadInputError && e.message.includes(`${path.join(dir, 'f')} is a file`));
    assert.throws(() => RunDir.acquire(path.join(dir, 'f')), BadInputError);
    fs.rmSync(dir, { recursive: true });
  });
});
