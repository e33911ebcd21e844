/**
 * One rank of the distributed tests (test/engine/distributed.test.ts), a real
 * process: node dist_worker.js SCENARIO [ARG]. Its place in the job comes from
 * torchrun's environment; it prints one JSON line on stdout (or, for the
 * launcher scenario, lines that the test looks for).
 */
import * as T from '../../src/engine';
import { launchLocal, watchLauncher } from '../../src/run/launch';

const { dist } = T;

/** Rank r's inputs; the test computes the expected means and broadcasts from the same formulas. */
export function inputsOf(r: number) {
  const range = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i));
  return {
    a: range(6, (i) => (r + 1) * (i + 1)), // float32 [2, 3]
    b: range(5, (i) => r * 10 + i / 4), // float64 [5]
    c: range(6, (i) => 100 * r + i), // float32 [3, 2], reduced through its transpose (not contiguous)
    p: range(3, (i) => r - i), // float32 [3], a leaf that requires grad
    d: range(4, (i) => r + 0.25 * i), // float32 [4], started and waited for apart
    e: range(4, (i) => 10 * r + i), // float32 [2, 2], broadcast from 0
    k: range(3, (i) => 7 * r + i), // int64 [3], broadcast from 0
    f: range(2, (i) => -r - i), // float64 [2], broadcast from 1
  };
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function init(timeoutMs: number): number {
  const job = dist.distributedEnv();
  if (!job) throw new Error('no RANK/WORLD_SIZE in the environment');
  dist.initProcessGroup({ ...job, timeoutMs });
  return job.rank;
}

function collectives(): object {
  const r = init(20_000);
  const x = inputsOf(r);
  const a = T.tensor(x.a, [2, 3]);
  const b = T.tensor(x.b, [5], { dtype: 'float64' });
  const c = T.transpose(T.tensor(x.c, [3, 2]), 0, 1);
  const p = T.tensor(x.p, [3], { requiresGrad: true });
  // 40-byte buckets: [a, p] flattened together (p a leaf that requires grad), c (not contiguous) apart, b (float64) alone in place
  dist.allReduceMean([a, b, c, p], { bucketBytes: 40 });
  const d = T.tensor(x.d, [4]);
  dist.startAllReduceMean([d]).wait();
  const e = T.tensor(x.e, [2, 2]);
  const k = T.tensor(x.k, [3], { dtype: 'int64' });
  dist.broadcast([e, k], 0);
  const f = T.tensor(x.f, [2], { dtype: 'float64' });
  dist.broadcast([f], 1);
  if (r === 1) sleep(1000);
  const t0 = Date.now();
  dist.barrier();
  const barrierMs = Date.now() - t0;
  dist.destroy();
  const out = { a, b, c, p, d, e, k, f };
  const values = Object.fromEntries(Object.entries(out).map(([n, t]) => [n, t.toArray()]));
  return { rank: r, ...values, pRequiresGrad: p.requiresGrad, barrierMs };
}

/** Rank 1 dies (SIGKILL) before rank 0's all-reduce or during it, or hangs; the all-reduce must fail, not hang. */
function fault(kind: 'die' | 'die-during' | 'hang', timeoutMs: number): object {
  const r = init(timeoutMs);
  if (r === 1) {
    if (kind === 'die-during') sleep(1000);
    if (kind !== 'hang') process.kill(process.pid, 'SIGKILL');
    sleep(3 * timeoutMs);
    return { rank: r };
  }
  if (kind !== 'die-during') sleep(500);
  const t0 = Date.now();
  try {
    dist.allReduceMean([T.ones([4])]);
    return { rank: r, ok: true };
  } catch (e) {
    const elapsedMs = Date.now() - t0;
    const t1 = Date.now();
    dist.destroy(); // after a failure too, destroy returns (Gloo's threads end)
    return { rank: r, error: (e as Error).message, elapsedMs, destroyMs: Date.now() - t1 };
  }
}

async function launched(mode: string): Promise<void> {
  if (process.env.RANK === undefined) {
    const res = await launchLocal({ nproc: 2, threads: 3, argv: [__filename, 'launch', mode], killGraceMs: 2000, termGraceMs: 2000 });
    process.stderr.write(`launcher result ${JSON.stringify(res)}\n`);
    process.exitCode = res.code;
    return;
  }
  const r = Number(process.env.RANK);
  process.stdout.write(`rank ${r} stdout threads=${process.env.AUTODEEPLAB_THREADS} omp=${process.env.OMP_NUM_THREADS} world=${process.env.WORLD_SIZE}\n`);
  process.stderr.write(`rank ${r} stderr\n`);
  if (mode === 'die-during') {
    process.stdout.write(`${JSON.stringify(fault('die-during', 10_000))}\n`);
    process.exitCode = 1;
  } else if (mode === 'fail1') {
    if (r === 1) {
      sleep(300);
      process.exit(3);
    }
    sleep(60_000); // killed by the launcher long before
  } else if (mode === 'orphan') {
    watchLauncher();
    setTimeout(() => process.exit(5), 20_000);
    process.stderr.write(`rank ${r} ready pid=${process.pid}\n`);
  } else if (mode === 'blocked') {
    // A rank stuck in native code (a join, a collective): its JS never runs again, and it takes no notice of SIGTERM.
    watchLauncher();
    process.on('SIGTERM', () => {});
    process.stderr.write(`rank ${r} ready pid=${process.pid}\n`);
    setTimeout(() => sleep(30_000), 200);
  } else if (mode === 'sigint') {
    let count = 0;
    process.on('SIGINT', () => {
      if (count++ === 0) setTimeout(() => { process.stderr.write(`rank ${r} SIGINT x${count}\n`); process.exit(0); }, 1500);
    });
    setTimeout(() => process.exit(5), 20_000);
    process.stderr.write(`rank ${r} ready\n`);
  }
}

async function main(): Promise<void> {
  const [scenario, arg] = process.argv.slice(2);
  try {
    if (scenario === 'launch') return await launched(arg);
    const out = scenario === 'collectives' ? collectives()
      : scenario === 'die' || scenario === 'die-during' || scenario === 'hang' ? fault(scenario, Number(arg))
        : (init(Number(arg)), dist.destroy(), { ok: true });
    process.stdout.write(`${JSON.stringify(out)}\n`);
    process.exitCode = 'error' in out ? 1 : 0;
  } catch (e) {
    process.stdout.write(`${JSON.stringify({ error: (e as Error).message })}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
