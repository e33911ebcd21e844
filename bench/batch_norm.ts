/**
 * `npm run bench -- batchnorm [--threads N] [--crop C]`: training-mode batch
 * norm forward + backward, libtorch's batch_norm against the addon's own
 * kernel (adl::batch_norm_train), on every shape one search iteration of the
 * paper's supernet normalises (profiled at crop C, default 32 and 64), each
 * weighted by its number of calls: what the kernel changes in an iteration.
 * Rounds of both interleaved, best round of each.
 */
import * as T from '../src/engine';
import { profileOps } from '../src/engine/profile';
import { bestMs } from './depthwise';
import { printTable } from './report';
import { searchWorkload } from './search_setup';

interface Site { shape: number[]; affine: boolean; calls: number }

/** The batch norms of one search iteration at this crop: input shape, affine or not, calls. */
function searchSites(crop: number): Site[] {
  const { iteration } = searchWorkload(crop, 'keep');
  iteration();
  const { events } = profileOps(iteration);
  const sites = new Map<string, Site>();
  for (const e of events) {
    if (e.depth !== 0 || !/batch_norm/.test(e.name) || !Array.isArray(e.args[0])) continue;
    const shape = e.args[0] as number[];
    const affine = Array.isArray(e.args[1]);
    const key = `${shape}|${affine}`;
    const s = sites.get(key) ?? { shape, affine, calls: 0 };
    s.calls++;
    sites.set(key, s);
  }
  return [...sites.values()].sort((a, b) => b.calls * b.shape.reduce((p, n) => p * n, 1) - a.calls * a.shape.reduce((p, n) => p * n, 1));
}

/** Best ms of one forward + backward (input, and weight and bias where affine) with the kernel on or off. */
function fwdBwdMs(s: Site, own: boolean): number {
  const c = s.shape[1];
  const x = T.randn(s.shape).keep().setRequiresGrad();
  const w = s.affine ? T.ones([c]).keep().setRequiresGrad() : null;
  const b = s.affine ? T.zeros([c]).keep().setRequiresGrad() : null;
  const [rm, rv, gy] = [T.zeros([c]).keep(), T.ones([c]).keep(), T.randn(s.shape).keep()];
  T.setBatchNormRouting(own);
  try {
    return bestMs(() => T.tidy(() => {
      T.backward(T.sum(T.mul(T.batchNorm(x, { weight: w, bias: b, runningMean: rm, runningVar: rv, training: true }), gy)));
      for (const t of [x, w, b]) if (t) {
        T.dispose([t.grad]);
        t.zeroGrad();
      }
    }), 20);
  } finally {
    T.setBatchNormRouting(true);
    T.dispose([x, w, b, rm, rv, gy].filter((t): t is T.Tensor => t !== null));
  }
}

export async function runBatchNormBench(threads: number, args: string[]): Promise<void> {
  T.setNumThreads(threads);
  const crops = args.includes('--crop') ? [Number(args[args.indexOf('--crop') + 1])] : [32, 64];
  for (const crop of crops) {
    const sites = searchSites(crop);
    let [libTotal, ownTotal] = [0, 0];
    const rows = sites.map((s) => {
      const [lib, own] = [fwdBwdMs(s, false), fwdBwdMs(s, true)];
      libTotal += lib * s.calls;
      ownTotal += own * s.calls;
      return { x: `(${s.shape.join(', ')})`, affine: s.affine ? 'yes' : '', calls: String(s.calls), 'libtorch ms': lib.toFixed(3), 'own ms': own.toFixed(3), ratio: (lib / own).toFixed(2) };
    });
    printTable(rows.slice(0, 12));
    console.log(`search iteration at crop ${crop}: ${sites.reduce((n, s) => n + s.calls, 0)} batch norms in ${sites.length} shapes (the 12 with most values above); ` +
      `forward + backward, calls x best time: libtorch ${libTotal.toFixed(0)} ms, own ${ownTotal.toFixed(0)} ms (${(libTotal / ownTotal).toFixed(2)}x), ${threads} thread(s)`);
  }
}
