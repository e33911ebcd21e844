/**
 * `npm run bench -- batchnorm [--crop C] [--threads N]`: the training-mode batch norms of one search iteration
 * (the bench's supernet at crop C, default 64), forward + input gradient, libtorch's aten::batch_norm against
 * adl::batch_norm_train (its statistics summed four channels at a time; the same values bit for bit). The inputs
 * are recorded from one iteration under the profiler; each distinct shape is timed both ways (rounds interleaved,
 * best round of each), weighted by its calls: the total is what the iteration spends in batch norm, the rows the
 * shapes that take most of it.
 */
import * as T from '../src/engine';
import { profileOps } from '../src/engine/profile';
import { bestMs } from './depthwise';
import { printTable } from './report';
import { searchWorkload } from './search_setup';

/** Each batch norm input shape of one search iteration at this crop, with its calls. */
function batchNormShapes(crop: number): Map<string, number> {
  const { iteration } = searchWorkload(crop, 'keep');
  iteration();
  const { events } = profileOps(iteration);
  const calls = new Map<string, number>();
  for (const e of events) {
    if (e.depth !== 0 || (e.name !== 'aten::batch_norm' && e.name !== 'adl::batch_norm_train')) continue;
    const key = JSON.stringify(e.args[0]);
    calls.set(key, (calls.get(key) ?? 0) + 1);
  }
  return calls;
}

/** Best ms of a forward + input gradient of x's batch norm, routed to the op or not. */
function timeBoth(shape: number[]): [number, number] {
  const x = T.randn(shape).keep().setRequiresGrad();
  const g = T.randn(shape).keep();
  const runningMean = T.zeros([shape[1]]).keep();
  const runningVar = T.ones([shape[1]]).keep();
  const step = (routed: boolean) => () => {
    T.setBatchNormRouting(routed);
    T.tidy(() => {
      T.grad(T.batchNorm(x, { runningMean, runningVar, training: true }), [x], { grads: [g] });
    });
  };
  const n = Math.max(5, Math.floor(2e5 / x.size));
  try {
    return [bestMs(step(false), n), bestMs(step(true), n)];
  } finally {
    T.setBatchNormRouting(true);
    T.dispose([x, g, runningMean, runningVar]);
  }
}

export async function runBatchNormBench(threads: number, args: string[]): Promise<void> {
  const ci = args.indexOf('--crop');
  const crop = ci >= 0 ? Number(args[ci + 1]) : 64;
  if (!(Number.isInteger(crop) && crop >= 32 && crop % 32 === 0)) throw new Error(`--crop: expected a multiple of 32, got '${args[ci + 1]}'`);
  T.setNumThreads(threads);
  const shapes = batchNormShapes(crop);
  const timed = [...shapes].map(([key, calls]) => {
    const shape = JSON.parse(key) as number[];
    const [lib, own] = timeBoth(shape);
    return { shape, calls, lib: lib * calls, own: own * calls };
  }).sort((a, b) => b.lib - a.lib);
  const total = (k: 'lib' | 'own') => timed.reduce((s, r) => s + r[k], 0);
  const rows = timed.slice(0, 8).map((r) => ({
    x: `(${r.shape.join(', ')})`, calls: String(r.calls), 'libtorch ms': r.lib.toFixed(2), 'own ms': r.own.toFixed(2), ratio: (r.lib / r.own).toFixed(2),
  }));
  const calls = timed.reduce((s, r) => s + r.calls, 0);
  rows.push({ x: `all ${timed.length} shapes`, calls: String(calls), 'libtorch ms': total('lib').toFixed(1), 'own ms': total('own').toFixed(1), ratio: (total('lib') / total('own')).toFixed(2) });
  printTable(rows);
  console.log(`batch norms of one search iteration at crop ${crop} (training, forward + input gradient), ms summed over their calls, ` +
    `${threads} thread(s); ratio = libtorch / own (above 1: own faster)`);
}
