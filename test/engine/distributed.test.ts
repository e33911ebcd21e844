/**
 * c10d through the addon, with real processes on 127.0.0.1 (dist_worker.js):
 * collectives against closed-form oracles, a dead or hung rank failing the
 * survivor within the timeout, rendezvous errors, the torchrun environment,
 * and the local launcher. Every process is bounded in time and killed at the end.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { BadInputError } from '../../src/util/errors';
import { distributedEnv, initProcessGroup } from '../../src/engine/distributed';
import { freePort, rankEnv } from '../../src/run/launch';
import { inputsOf } from './dist_worker';

const WORKER = path.join(__dirname, 'dist_worker.js');
const started = new Set<ChildProcess>();
after(() => started.forEach((c) => c.kill('SIGKILL')));

interface Ran { code: number | null; signal: string | null; stdout: string; stderr: string; ms: number; json: Record<string, any> }

/** Runs node dist_worker.js ARGS with env; killed after limitMs (the test then fails on its exit). */
function run(args: string[], env: NodeJS.ProcessEnv, limitMs: number, onStderr?: (text: string, child: ChildProcess) => void): Promise<Ran> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [WORKER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => {
    stderr += d;
    onStderr?.(stderr, child);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer);
    started.delete(child);
    const last = stdout.trim().split('\n').pop() ?? '';
    let json: Record<string, any> = {};
    try { json = JSON.parse(last); } catch { /* not a JSON scenario */ }
    resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, json });
  }));
}

/** Ranks 0..n-1 of one job on a fresh port. */
async function job(n: number, args: string[], limitMs: number, port?: number): Promise<Ran[]> {
  const p = port ?? (await freePort());
  return Promise.all(Array.from({ length: n }, (_, r) => run(args, rankEnv(process.env, r, n, p, n), limitMs)));
}

const mean = (xs: number[][]) => xs[0].map((_, i) => xs.reduce((s, x) => s + x[i], 0) / xs.length);
const f32 = (xs: number[]) => Array.from(Float32Array.from(xs));

describe('distributed: collectives on two processes (Gloo)', () => {
  it('all-reduce gives the exact mean, broadcast the root\'s values, barrier waits for the last rank', async () => {
    const ranks = await job(2, ['collectives'], 60_000);
    const x = [inputsOf(0), inputsOf(1)];
    for (const [r, out] of ranks.entries()) {
      assert.equal(out.code, 0, `rank ${r} failed: ${out.stdout}${out.stderr}`);
      const o = out.json;
      assert.equal(o.rank, r);
      assert.deepEqual(o.a, f32(mean([x[0].a, x[1].a])), 'a (float32, bucketed)');
      assert.deepEqual(o.b, mean([x[0].b, x[1].b]), 'b (float64)');
      // c is the transpose of a [3, 2] tensor: read in its own (transposed) order.
      const tr = (v: number[]) => [0, 1].flatMap((j) => [0, 1, 2].map((i) => v[2 * i + j]));
      assert.deepEqual(o.c, f32(mean([tr(x[0].c), tr(x[1].c)])), 'c (a non-contiguous view)');
      assert.deepEqual(o.p, f32(mean([x[0].p, x[1].p])), 'p (a leaf that requires grad)');
      assert.equal(o.pRequiresGrad, true);
      assert.deepEqual(o.d, f32(mean([x[0].d, x[1].d])), 'd (started, then waited for)');
      assert.deepEqual(o.e, x[0].e, 'e: broadcast from rank 0');
      assert.deepEqual(o.k, x[0].k, 'k (int64): broadcast from rank 0');
      assert.deepEqual(o.f, x[1].f, 'f: broadcast from rank 1');
    }
    assert.ok(ranks[0].json.barrierMs >= 800, `rank 0 left the barrier after ${ranks[0].json.barrierMs} ms, before rank 1 (1000 ms late) arrived`);
  });
});

describe('distributed: faults end in errors, not hangs', () => {
  it('a rank killed before a collective makes the survivor fail at once (exit 1), naming the problem', async () => {
    const [r0, r1] = await job(2, ['die', '10000'], 40_000);
    assert.equal(r1.signal, 'SIGKILL');
    assert.equal(r0.code, 1, `rank 0: ${r0.stdout}${r0.stderr}`);
    assert.match(r0.json.error, /allReduce failed: .*(closed|reset|peer)/i);
    assert.ok(r0.json.elapsedMs < 10_000, `failed after ${r0.json.elapsedMs} ms, timeout 10000 ms`);
    assert.ok(r0.json.destroyMs < 10_000, `destroy() after the failure took ${r0.json.destroyMs} ms`);
  });

  it('a rank killed while the survivor waits in a collective makes it fail when it dies, not at the timeout', async () => {
    const [r0, r1] = await job(2, ['die-during', '10000'], 40_000);
    assert.equal(r1.signal, 'SIGKILL');
    assert.equal(r0.code, 1, `rank 0: ${r0.stdout}${r0.stderr}`);
    assert.match(r0.json.error, /allReduce failed: .*(closed|reset|peer)/i);
    assert.ok(r0.json.elapsedMs >= 500 && r0.json.elapsedMs < 5000, `failed after ${r0.json.elapsedMs} ms; rank 1 died after about 1000 ms`);
  });

  it('a rank that hangs makes the survivor fail when the timeout expires', async () => {
    const [r0] = await job(2, ['hang', '2000'], 40_000);
    assert.equal(r0.code, 1, `rank 0: ${r0.stdout}${r0.stderr}`);
    assert.match(r0.json.error, /allReduce failed: .*tim(ed|e) ?out/i);
    assert.ok(r0.json.elapsedMs >= 1500 && r0.json.elapsedMs < 2000 + 4000, `failed after ${r0.json.elapsedMs} ms, timeout 2000 ms`);
    assert.ok(r0.json.destroyMs < 2000 + 4000, `destroy() after the timeout took ${r0.json.destroyMs} ms`);
  });

  it('rank 0 alone (the other rank never starts) fails after the timeout, saying which rank could not join where', async () => {
    const port = await freePort();
    const r0 = await run(['init', '2000'], rankEnv(process.env, 0, 2, port, 2), 30_000);
    assert.equal(r0.code, 1);
    assert.match(r0.json.error, new RegExp(`rank 0 of 2 could not join the job at 127\\.0\\.0\\.1:${port} \\(gloo, timeout 2000 ms\\)`));
    assert.ok(r0.ms < 2000 + 15_000, `took ${r0.ms} ms`);
  });

  it('rank 0 on a port already in use is a clear error', async () => {
    const server = net.createServer();
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const [r0] = await job(1, ['init', '3000'], 30_000, port);
      assert.equal(r0.code, 1);
      assert.match(r0.json.error, /rank 0 of 1 could not join .*distInit: .*address already in use/i);
      assert.match(r0.json.error, new RegExp(String(port)));
    } finally {
      server.close();
    }
  });

  it('an unreachable master is an error after the timeout, naming host, port and what to check', async () => {
    const port = await freePort(); // nobody listens there
    const r1 = await run(['init', '2000'], rankEnv(process.env, 1, 2, port, 2), 30_000);
    assert.equal(r1.code, 1);
    assert.match(r1.json.error, /distInit: .*(timed out|timeout)/i);
    assert.match(r1.json.error, new RegExp(`127\\.0\\.0\\.1.*${port}`));
    assert.match(r1.json.error, new RegExp(`\ncheck: rank 0 is running and serves 127\\.0\\.0\\.1:${port} .*every rank reaches it .*firewall.*same MASTER_ADDR, MASTER_PORT.*GLOO_SOCKET_IFNAME`));
    assert.ok(r1.ms < 2000 + 15_000, `took ${r1.ms} ms`);
  });
});

describe('distributed: arguments and environment', () => {
  it('distributedEnv reads torchrun\'s variables, and names the missing or bad one', () => {
    assert.equal(distributedEnv({}), null);
    assert.deepEqual(distributedEnv({ RANK: '1', WORLD_SIZE: '4', LOCAL_RANK: '1', MASTER_ADDR: 'node0', MASTER_PORT: '29500' }),
      { rank: 1, worldSize: 4, localRank: 1, masterAddr: 'node0', masterPort: 29500 });
    assert.equal(distributedEnv({ RANK: '2', WORLD_SIZE: '4', MASTER_ADDR: 'h', MASTER_PORT: '1' })!.localRank, 0);
    assert.throws(() => distributedEnv({ RANK: '0', WORLD_SIZE: '2' }), (e: Error) => e instanceof BadInputError && /MASTER_ADDR, MASTER_PORT not set/.test(e.message));
    assert.throws(() => distributedEnv({ RANK: '2', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1' }), /RANK must be an integer in 0\.\.1, got '2'/);
    assert.throws(() => distributedEnv({ RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: 'x' }), /MASTER_PORT must be an integer in 1\.\.65535/);
    // torchrun's static rendezvous: its agent serves MASTER_PORT, so rank 0 is a client too (keys under /worker/attempt_N).
    const agent = { RANK: '0', WORLD_SIZE: '2', MASTER_ADDR: 'h', MASTER_PORT: '1', TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '3' };
    assert.deepEqual(distributedEnv(agent)!.agentStore, { restartCount: 3 });
    assert.equal(distributedEnv({ ...agent, TORCHELASTIC_USE_AGENT_STORE: 'False' })!.agentStore, undefined);
  });

  it('joins a job whose store torchrun\'s agent serves (a Python TCPStore on MASTER_PORT stands in for the agent)', async (t) => {
    const python = spawnSync('/usr/bin/python3', ['-c', 'import torch.distributed'], { encoding: 'utf8' });
    if (python.status !== 0) return t.skip('needs /usr/bin/python3 with torch (python3-torch) for the agent\'s store');
    const port = await freePort();
    // The agent: serves the store, as torchrun's LocalElasticAgent does with a static rendezvous, for 60 s at most.
    const agentCode = `import datetime, time; from torch.distributed import TCPStore
s = TCPStore('127.0.0.1', ${port}, 3, True, datetime.timedelta(seconds=60), wait_for_workers=False); print('up', flush=True); time.sleep(60)`;
    const agent = spawn('/usr/bin/python3', ['-c', agentCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    started.add(agent);
    await new Promise<void>((resolve) => agent.stdout!.once('data', () => resolve()));
    const env = (r: number) => ({ ...rankEnv(process.env, r, 2, port, 2), TORCHELASTIC_USE_AGENT_STORE: 'True', TORCHELASTIC_RESTART_COUNT: '0' });
    const ranks = await Promise.all([0, 1].map((r) => run(['collectives'], env(r), 60_000)));
    agent.kill('SIGKILL');
    const x = [inputsOf(0), inputsOf(1)];
    for (const [r, out] of ranks.entries()) {
      assert.equal(out.code, 0, `rank ${r} failed: ${out.stdout}${out.stderr}`);
      assert.deepEqual(out.json.a, f32(mean(x.map((v) => v.a))));
    }
  });

  it('initProcessGroup names the bad argument (before any network use)', () => {
    const ok = { rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: 29500 };
    assert.throws(() => initProcessGroup({ ...ok, rank: 2 }), /rank must be an integer in 0\.\.1/);
    assert.throws(() => initProcessGroup({ ...ok, worldSize: 0 }), /worldSize must be/);
    assert.throws(() => initProcessGroup({ ...ok, masterPort: 70000 }), /masterPort must be/);
    assert.throws(() => initProcessGroup({ ...ok, masterAddr: '' }), /masterAddr must be/);
    assert.throws(() => initProcessGroup({ ...ok, timeoutMs: 999 }), /timeoutMs must be an integer number of milliseconds, at least 1000, got 999/);
    assert.throws(() => initProcessGroup({ ...ok, backend: 'mpi' as 'gloo' }), /backend must be 'gloo' or 'nccl'/);
  });
});

describe('distributed: the local launcher', () => {
  it('runs 2 ranks with torchrun\'s environment and their thread share; forwards rank 0\'s output and others\' stderr', async () => {
    const r = await run(['launch', 'ok'], process.env, 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^rank 0 stdout threads=1 omp=1 world=2$/m); // 3 threads / 2 ranks
    assert.doesNotMatch(r.stdout, /rank 1 stdout/);
    assert.match(r.stderr, /^rank 0 stderr$/m);
    assert.match(r.stderr, /^\[rank 1\] rank 1 stderr$/m);
    assert.match(r.stderr, /launcher result \{"code":0\}/);
  });

  it('a failing rank stops the others and the job exits 1 naming it', async () => {
    const r = await run(['launch', 'fail1'], process.env, 60_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rank 1 exited with code 3; stopping the other 1 rank/);
    assert.match(r.stderr, /launcher result \{"code":1,"failedRank":1\}/);
    assert.ok(r.ms < 30_000, `took ${r.ms} ms: rank 0 (sleeping 60 s) was not stopped`);
  });

  it('a rank killed in a collective ends the job with exit 1 naming it, well within the timeout', async () => {
    const r = await run(['launch', 'die-during'], process.env, 60_000);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rank 1 was killed by SIGKILL; stopping the other 1 rank/);
    assert.match(r.stderr, /launcher result \{"code":1,"failedRank":1\}/);
    assert.ok(r.ms < 10_000, `took ${r.ms} ms (timeout 10000 ms)`);
  });

  it('ranks that watch their launcher exit when it is killed (SIGKILL), instead of running on', async () => {
    let pids: number[] = [];
    let killed = () => {};
    const launcherKilled = new Promise<void>((res) => (killed = res));
    const done = run(['launch', 'orphan'], process.env, 30_000, (text, child) => {
      const found = [...text.matchAll(/rank \d ready pid=(\d+)/g)].map((m) => Number(m[1]));
      if (pids.length === 0 && found.length === 2) {
        pids = found;
        child.kill('SIGKILL');
        killed();
      }
    });
    await Promise.race([launcherKilled, done]); // (its output pipes stay open while the ranks live: do not wait for them)
    assert.equal(pids.length, 2, 'the ranks never said they were ready');
    const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
    const t0 = Date.now();
    while (pids.some(alive) && Date.now() - t0 < 5000) await new Promise((res) => setTimeout(res, 100));
    const left = pids.filter(alive);
    left.forEach((pid) => process.kill(pid, 'SIGKILL'));
    assert.deepEqual(left, [], `ranks still running ${Date.now() - t0} ms after their launcher died`);
    assert.equal((await done).signal, 'SIGKILL');
  });

  it('Ctrl-C (SIGINT) to the launcher reaches every rank exactly once', async () => {
    let sent = false;
    const r = await run(['launch', 'sigint'], process.env, 60_000, (text, child) => {
      if (!sent && /rank 0 ready/.test(text) && /rank 1 ready/.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    assert.ok(sent, r.stderr);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^rank 0 SIGINT x1$/m);
    assert.match(r.stderr, /^\[rank 1\] rank 1 SIGINT x1$/m);
  });
});
