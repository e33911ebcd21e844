/**
 * `npm run bench -- batchnorm [--crop C] [--what search|train] [--threads N]`: the training-mode batch norms of
 * one search iteration (the bench's supernet at crop C, default 64) or one retraining step (profile.ts's), forward
 * and gradients, libtorch's aten::batch_norm against adl::batch_norm_train (its statistics summed four channels at a
 * time; the same values bit for bit). The inputs are recorded from one iteration under the profiler; each distinct
 * (shape, weight, bias) is timed both ways (rounds interleaved, best round of each), weighted by its calls: the
 * total is what the iteration spends in batch norm, the rows the shapes that take most of it.
 */
import * as T from '../src/engine';
import { profileOps } from '../src/engine/profile';
import { BadInputError } from '../src/util/errors';
import { bestMs } from './depthwise';
import { printTable } from './report';
import { searchWorkload } from './search_setup';
import { trainIteration } from './profile';

interface Site { shape: number[]; weight: boolean; bias: boolean }

/** Each batch norm site (input shape, affine parameters) of one iteration at this crop, with its calls. */
function batchNormSites(crop: number, what: string): Map<string, number> {
  const iteration = what === 'train' ? trainIteration(crop) : searchWorkload(crop, 'keep').iteration;
  iteration();
  const { events } = profileOps(iteration);
  const calls = new Map<string, number>();
  for (const e of events) {
    if (e.depth !== 0 || (e.name !== 'aten::batch_norm' && e.name !== 'adl::batch_norm_train')) continue;
    const key = JSON.stringify({ shape: e.args[0], weight: e.args[1] !== null, bias: e.args[2] !== null });
    calls.set(key, (calls.get(key) ?? 0) + 1);
  }
  return calls;
}

/** Best ms of a forward and the gradients (input, and weight and bias where the site has them) of a site, routed to the op or not. */
function timeBoth(site: Site): [number, number] {
  const { shape } = site;
  const x = T.randn(shape).keep().setRequiresGrad();
  const g = T.randn(shape).keep();
  const weight = site.weight ? T.uniform([shape[1]], 0.5, 1.5).keep().setRequiresGrad() : null;
  const bias = site.bias ? T.zeros([shape[1]]).keep().setRequiresGrad() : null;
  const runningMean = T.zeros([shape[1]]).keep();
  const runningVar = T.ones([shape[1]]).keep();
  const wrt = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
  const step = (routed: boolean) => () => {
    T.setBatchNormRouting(routed);
    T.tidy(() => {
      T.grad(T.batchNorm(x, { weight, bias, runningMean, runningVar, training: true }), wrt, { grads: [g] });
    });
  };
  const n = Math.max(5, Math.floor(2e5 / x.size));
  try {
    return [bestMs(step(false), n), bestMs(step(true), n)];
  } finally {
    T.setBatchNormRouting(true);
    T.dispose([...wrt, g, runningMean, runningVar]);
  }
}

export async function runBatchNormBench(threads: number, args: string[]): Promise<void> {
  const ci = args.indexOf('--crop');
  const crop = ci >= 0 ? Number(args[ci + 1]) : 64;
  if (!Number.isInteger(crop) || crop < 16) throw new BadInputError(`--crop: expected a whole number >= 16 (as the profile bench), got '${args[ci + 1] ?? ''}'`);
  const wi = args.indexOf('--what');
  const what = wi >= 0 ? args[wi + 1] : 'search';
  if (what !== 'search' && what !== 'train') throw new BadInputError(`--what: expected search or train, got '${what}'`);
  T.setNumThreads(threads);
  const sites = batchNormSites(crop, what);
  const timed = [...sites].map(([key, calls]) => {
    const site = JSON.parse(key) as Site;
    const [lib, own] = timeBoth(site);
    return { ...site, calls, lib: lib * calls, own: own * calls };
  }).sort((a, b) => b.lib - a.lib);
  const total = (k: 'lib' | 'own') => timed.reduce((s, r) => s + r[k], 0);
  const rows = timed.slice(0, 8).map((r) => ({
    x: `(${r.shape.join(', ')})${r.weight ? ' w' : ''}${r.bias ? ' b' : ''}`, calls: String(r.calls), 'libtorch ms': r.lib.toFixed(2), 'own ms': r.own.toFixed(2), ratio: (r.lib / r.own).toFixed(2),
  }));
  const calls = timed.reduce((s, r) => s + r.calls, 0);
  rows.push({ x: `all ${timed.length} sites`, calls: String(calls), 'libtorch ms': total('lib').toFixed(1), 'own ms': total('own').toFixed(1), ratio: (total('lib') / total('own')).toFixed(2) });
  printTable(rows);
  console.log(`batch norms of one ${what === 'train' ? 'retraining step' : 'search iteration'} at crop ${crop} (training mode, forward and ` +
    `gradients; w, b: with weight, bias), ms summed over their calls, ${threads} thread(s); ratio = libtorch / own (above 1: own faster)`);
}
