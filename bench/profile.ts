/**
 * `npm run bench -- profile [--crop C] [--what search|train] [--threads N] [--full-kernels] [--recompute]`:
 * where one iteration's time goes, per op family (convolutions by kind, batch
 * norm, pooling, elementwise, views, backward), with calls, time, FLOPs and
 * achieved GFLOP/s beside the machine's sgemm GFLOP/s on 1 and N threads (the
 * roofline), and the JS side: an unprofiled iteration's wall time less the time
 * inside the addon's calls (each call timed), with the calls it made.
 * --full-kernels: every 'same' convolution runs its whole kernel, and every 1x1 one, through
 * libtorch (the formulation before sameConv2d and depthwiseConv2d).
 * --recompute: the search recomputes activations in the backward pass; by default it keeps them,
 * which is what `recompute: 'auto'` chooses at these crops on a machine with a few GB.
 */
import * as T from '../src/engine';
import { native } from '../src/engine/native';
import { profileOps } from '../src/engine/profile';
import { AUTO_DEEPLAB_GENOTYPE } from '../src/arch/genotype';
import { buildModel } from '../src/model/presets';
import { IGNORE_INDEX } from '../src/data/dataset';
import { summarise } from './op_families';
import { printTable } from './report';
import { searchWorkload } from './search_setup';
import { sgemmGflops } from '../src/engine/blas';
import { BadInputError } from '../src/util/errors';

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

export async function runProfileBench(threads: number, args: string[]): Promise<void> {
  const flag = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const crop = Number(flag('--crop', '64'));
  const what = flag('--what', 'search');
  if (!Number.isInteger(crop) || crop < 16) throw new BadInputError(`--crop: expected a whole number >= 16, got '${flag('--crop', '')}'`);
  if (what !== 'search' && what !== 'train') throw new BadInputError(`--what: expected search or train, got '${what}'`);
  T.setNumThreads(threads);
  if (args.includes('--full-kernels')) {
    T.setSameConvShortcuts(false);
    T.setPointwiseRouting(false);
  }
  const iteration = what === 'search' ? searchWorkload(crop, args.includes('--recompute') ? 'recompute' : 'keep').iteration : trainIteration(crop);
  iteration(); // warm-up: allocator, kernels' first-call set-up
  const t0 = process.hrtime.bigint();
  iteration();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const { counts: calls, nativeMs, wallMs: countedWall } = countAddonCalls(iteration);
  const t1 = process.hrtime.bigint();
  const { events } = profileOps(iteration);
  const profiledWall = Number(process.hrtime.bigint() - t1) / 1e6;
  const rows = summarise(events);
  const insideMs = rows.reduce((s, r) => s + r.micros, 0) / 1e3;
  const [one, all] = [sgemmGflops(1), sgemmGflops(threads)];
  T.setNumThreads(threads);
  // Shares are of the time inside libtorch's operators: the profiler's own cost (a few microseconds per
  // recorded op, nested ones included) inflates every family alike.
  printTable(rows.map((r) => ({
    family: r.family, calls: String(r.calls), ms: (r.micros / 1e3).toFixed(1), share: `${((r.micros / 1e3 / insideMs) * 100).toFixed(1)}%`,
    GFLOP: r.flops ? (r.flops / 1e9).toFixed(2) : '', 'GFLOP/s': r.flops ? (r.flops / 1e3 / r.micros).toFixed(1) : '',
  })));
  const conv = rows.filter((r) => r.family.startsWith('conv'));
  const convMs = conv.reduce((s, r) => s + r.micros, 0) / 1e3;
  const convFlops = conv.reduce((s, r) => s + r.flops, 0);
  const totalCalls = Object.values(calls).reduce((s, n) => s + n, 0);
  const jsMs = countedWall - nativeMs;
  console.log(`${what} iteration at crop ${crop}, ${threads} thread(s): ${wallMs.toFixed(0)} ms; profiled ${profiledWall.toFixed(0)} ms, ` +
    `${insideMs.toFixed(0)} ms of it inside libtorch operators`);
  console.log(`JS side: ${jsMs.toFixed(0)} ms of ${countedWall.toFixed(0)} (${((jsMs / countedWall) * 100).toFixed(0)}%) outside the addon's ${totalCalls} calls ` +
    `(${Object.entries(calls).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  console.log(`convolutions fwd+bwd: ${(convFlops / 1e9).toFixed(2)} GFLOP in ${convMs.toFixed(0)} ms (profiled) = ${(convFlops / 1e6 / convMs).toFixed(1)} GFLOP/s; ` +
    `roofline: sgemm 1024 ${one.toFixed(1)} GFLOP/s on 1 thread, ${all.toFixed(1)} on ${threads}`);
}
