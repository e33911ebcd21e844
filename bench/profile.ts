/**
 * `npm run bench -- profile [--crop C] [--what search|train] [--threads N] [--full-kernels] [--recompute] [--rounds R] [--baseline]`:
 * where one iteration's time goes, per op family (convolutions by kind, batch
 * norm, pooling, elementwise, views, backward), with calls, time, FLOPs and
 * achieved GFLOP/s beside the machine's sgemm GFLOP/s on 1 and N threads (the
 * roofline), and the JS side: an unprofiled iteration's wall time less the time
 * inside the addon's calls (each call timed), with the calls it made.
 * --full-kernels: every 'same' convolution runs its whole kernel, and every 1x1 one, through
 * libtorch (the formulation before sameConv2d and depthwiseConv2d).
 * --recompute: the search recomputes activations in the backward pass; by default it keeps them,
 * which is what `recompute: 'auto'` chooses at these crops on a machine with a few GB.
 *
 * Times come from timing-only runs of the profiler (the outermost operators, no arguments: the least it adds to
 * each), R of them (default 3), the one with the least time inside operators; the arguments (shapes, hence kinds
 * and FLOPs) from one recording run before them (src/engine/profile.ts, withTimesOf).
 * --baseline: first the same profile in a child process set up as the issue's starting point was: every
 * convolution through libtorch with its whole kernel (--full-kernels), the reference BLAS that a fresh Debian gives
 * libtorch (when installed), glibc's malloc; then this one, and both side by side with the convolutions' ratio.
 */
import * as T from '../src/engine';
import { native } from '../src/engine/native';
import { profileOps, withTimesOf } from '../src/engine/profile';
import { AUTO_DEEPLAB_GENOTYPE } from '../src/arch/genotype';
import { buildModel } from '../src/model/presets';
import { IGNORE_INDEX } from '../src/data/dataset';
import { summarise, type FamilyRow } from './op_families';
import { printTable } from './report';
import { searchWorkload } from './search_setup';
import { blasName, sgemmGflops } from '../src/engine/blas';
import { BadInputError } from '../src/util/errors';
import { withoutPreloadedMalloc } from '../src/util/preload';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';

/** The quickstart's retraining step: the released path and cells at F=8, batch 8, SGD. */
export function trainIteration(crop: number): () => void {
  T.manualSeed(0);
  const model = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 8, numClasses: 19 });
  const opt = new T.SGD(model.weights.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 4e-5 });
  return () => T.tidy(() => {
    opt.zeroGrad();
    const loss = T.crossEntropy(model.forward(T.randn([8, 3, crop, crop]), true), T.randint(0, 19, [8, crop, crop]), { ignoreIndex: IGNORE_INDEX });
    T.backward(loss);
    opt.step();
  });
}

/** Counts the addon's calls by function while body runs, and the time spent inside them. */
function countAddonCalls(body: () => void): { counts: Record<string, number>; nativeMs: number; wallMs: number } {
  const counts: Record<string, number> = {};
  let nativeNs = 0n;
  const binding = native as unknown as Record<string, unknown>;
  const saved = new Map<string, (...a: unknown[]) => unknown>();
  for (const [name, fn] of Object.entries(binding)) {
    if (typeof fn !== 'function' || name.startsWith('profile')) continue;
    saved.set(name, fn as (...a: unknown[]) => unknown);
    binding[name] = (...a: unknown[]) => {
      counts[name] = (counts[name] ?? 0) + 1;
      const t = process.hrtime.bigint();
      try {
        return (fn as (...a: unknown[]) => unknown)(...a);
      } finally {
        nativeNs += process.hrtime.bigint() - t;
      }
    };
  }
  const t0 = process.hrtime.bigint();
  try {
    body();
  } finally {
    for (const [name, fn] of saved) binding[name] = fn;
  }
  return { counts, nativeMs: Number(nativeNs) / 1e6, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 };
}

interface Profile { rows: FamilyRow[]; wallMs: number; insideMs: number; jsMs: number; countedWall: number; calls: Record<string, number>; blas: string; gemm: [number, number] }

/** One iteration's profile: see the file's comment. */
function measure(iteration: () => void, threads: number, rounds: number): Profile {
  iteration(); // warm-up: allocator, kernels' first-call set-up
  const t0 = process.hrtime.bigint();
  iteration();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const { counts: calls, nativeMs, wallMs: countedWall } = countAddonCalls(iteration);
  const recorded = profileOps(iteration).events;
  let rows: FamilyRow[] = [];
  let insideMs = Infinity;
  for (let r = 0; r < rounds; r++) {
    const round = summarise(withTimesOf(recorded, profileOps(iteration, { timingOnly: true }).events));
    const inside = round.reduce((s, x) => s + x.micros, 0) / 1e3;
    if (inside < insideMs) [rows, insideMs] = [round, inside];
  }
  const gemm: [number, number] = [sgemmGflops(1), sgemmGflops(threads)];
  T.setNumThreads(threads);
  return { rows, wallMs, insideMs, jsMs: countedWall - nativeMs, countedWall, calls, blas: blasName(), gemm };
}

const convRows = (p: Profile) => p.rows.filter((r) => r.family.startsWith('conv'));
const sum = (rows: FamilyRow[], k: 'micros' | 'flops') => rows.reduce((s, r) => s + r[k], 0);

function printProfile(p: Profile, what: string, crop: number, threads: number): void {
  // Shares are of the time inside libtorch's operators.
  printTable(p.rows.map((r) => ({
    family: r.family, calls: String(r.calls), ms: (r.micros / 1e3).toFixed(1), share: `${((r.micros / 1e3 / p.insideMs) * 100).toFixed(1)}%`,
    GFLOP: r.flops ? (r.flops / 1e9).toFixed(2) : '', 'GFLOP/s': r.flops ? (r.flops / 1e3 / r.micros).toFixed(1) : '',
  })));
  const conv = convRows(p);
  const [convMs, convFlops] = [sum(conv, 'micros') / 1e3, sum(conv, 'flops')];
  const totalCalls = Object.values(p.calls).reduce((s, n) => s + n, 0);
  console.log(`${what} iteration at crop ${crop}, ${threads} thread(s): ${p.wallMs.toFixed(0)} ms; ${p.insideMs.toFixed(0)} ms inside libtorch operators (profiled)`);
  console.log(`JS side: ${p.jsMs.toFixed(0)} ms of ${p.countedWall.toFixed(0)} (${((p.jsMs / p.countedWall) * 100).toFixed(0)}%) outside the addon's ${totalCalls} calls ` +
    `(${Object.entries(p.calls).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  console.log(`convolutions fwd+bwd: ${(convFlops / 1e9).toFixed(2)} GFLOP in ${convMs.toFixed(0)} ms (profiled) = ${(convFlops / 1e6 / convMs).toFixed(1)} GFLOP/s; ` +
    `roofline (${p.blas}): sgemm 1024 ${p.gemm[0].toFixed(1)} GFLOP/s on 1 thread, ${p.gemm[1].toFixed(1)} on ${threads}`);
}

/** The profile of the issue's starting point (see the file's comment), from a child process. */
function baselineProfile(args: string[]): Profile {
  const dir = fs.mkdtempSync('/tmp/adl-profile-');
  const out = `${dir}/baseline.json`;
  const reference = `/usr/lib/${process.arch === 'x64' ? 'x86_64' : 'aarch64'}-linux-gnu/blas`;
  const env: NodeJS.ProcessEnv = { ...withoutPreloadedMalloc(process.env), AUTODEEPLAB_MALLOC: 'system' };
  if (fs.existsSync(`${reference}/libblas.so.3`)) env.LD_LIBRARY_PATH = [reference, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  const childArgs = [...args.filter((a) => a !== '--baseline'), '--full-kernels', '--json-out', out];
  try {
    const r = spawnSync(process.execPath, [process.argv[1], 'profile', ...childArgs], { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`bench profile --baseline: the baseline run failed (exit ${r.status ?? r.signal})`);
    return JSON.parse(fs.readFileSync(out, 'utf8')) as Profile;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function printComparison(before: Profile, now: Profile): void {
  const families = [...new Set([...before.rows, ...now.rows].map((r) => r.family))];
  const row = (p: Profile, f: string) => p.rows.find((r) => r.family === f);
  const cell = (r: FamilyRow | undefined) => (r ? `${r.calls}, ${(r.micros / 1e3).toFixed(1)}${r.flops ? ` (${(r.flops / 1e3 / r.micros).toFixed(1)})` : ''}` : '');
  console.log('\nbefore: --full-kernels, reference BLAS, glibc malloc; calls, ms (GFLOP/s)');
  printTable(families.map((f) => {
    const [b, n] = [row(before, f), row(now, f)];
    return { family: f, before: cell(b), now: cell(n), 'before / now': b && n ? (b.micros / n.micros).toFixed(2) : '' };
  }));
  const [bc, nc] = [convRows(before), convRows(now)];
  const [bMs, nMs, bFlops, nFlops] = [sum(bc, 'micros') / 1e3, sum(nc, 'micros') / 1e3, sum(bc, 'flops'), sum(nc, 'flops')];
  console.log(`convolutions fwd+bwd: before ${(bFlops / 1e9).toFixed(2)} GFLOP in ${bMs.toFixed(0)} ms = ${(bFlops / 1e6 / bMs).toFixed(1)} GFLOP/s (${before.blas}); ` +
    `now ${(nFlops / 1e9).toFixed(2)} GFLOP in ${nMs.toFixed(0)} ms = ${(nFlops / 1e6 / nMs).toFixed(1)} GFLOP/s, ` +
    `the before formulation's FLOPs over now's time ${(bFlops / 1e6 / nMs).toFixed(1)} GFLOP/s: ${(bMs / nMs).toFixed(2)}x`);
  console.log(`iteration: before ${before.wallMs.toFixed(0)} ms, now ${now.wallMs.toFixed(0)} ms (${(before.wallMs / now.wallMs).toFixed(2)}x)`);
}

export async function runProfileBench(threads: number, args: string[]): Promise<void> {
  const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const crop = Number(flag('--crop', '64'));
  const what = flag('--what', 'search');
  const rounds = Number(flag('--rounds', '3'));
  if (!Number.isInteger(crop) || crop < 16) throw new BadInputError(`--crop: expected a whole number >= 16, got '${flag('--crop', '')}'`);
  if (what !== 'search' && what !== 'train') throw new BadInputError(`--what: expected search or train, got '${what}'`);
  if (!Number.isInteger(rounds) || rounds < 1) throw new BadInputError(`--rounds: expected a whole number >= 1, got '${flag('--rounds', '')}'`);
  const before = args.includes('--baseline') ? baselineProfile(args) : undefined;
  T.setNumThreads(threads);
  if (args.includes('--full-kernels')) {
    T.setSameConvShortcuts(false);
    T.setPointwiseRouting(false);
  }
  const iteration = what === 'search' ? searchWorkload(crop, args.includes('--recompute') ? 'recompute' : 'keep').iteration : trainIteration(crop);
  const now = measure(iteration, threads, rounds);
  const jsonOut = flag('--json-out', '');
  if (jsonOut) return fs.writeFileSync(jsonOut, JSON.stringify(now));
  printProfile(now, what, crop, threads);
  if (before) printComparison(before, now);
}
