/**
 * `npm run bench -- depthwise [--threads N]`: depthwise convolution forward +
 * backward at the supernet's shapes (F=8 at crop 64: 6 images x arrows, 5
 * edges x C channels, maps 16..4, and 32 at crop 128), libtorch's conv2d
 * against depthwiseConv2d (the addon's own kernels), rounds of both
 * interleaved, best round of each. Decides which kernels sameConv2d routes
 * through depthwiseConv2d. `--parts`: the own kernel's forward and its weight
 * gradient alone (the gradient of a weight that requires it, given the output's
 * gradient), in ms and GFLOP/s. `--layouts`: the own kernel's two loops
 * (planes, channels innermost) against each other, forward + both gradients:
 * what decides the map size up to which `auto` takes channels innermost.
 */
import * as T from '../src/engine';
import { keptReach } from '../src/engine/ops/same_conv';
import { printTable } from './report';

export function bestMs(f: () => void, n = 10, rounds = 3): number {
  f();
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < n; i++) f();
    best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6 / n);
  }
  return best;
}

/** The supernet's depthwise inputs: batch 2 at crop 32 (maps 8..2), 6 = 2 images x 3 arrows at crop 64 and 128. */
const SHAPES = [[2, 80, 8], [2, 160, 4], [2, 320, 2], [6, 40, 16], [6, 80, 8], [6, 160, 4], [6, 40, 32], [6, 20, 64]];

/** The own kernel's forward, and forward + weight gradient less the forward, per shape. */
function partsRows(): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (const [b, c, h] of SHAPES) for (const k of [3, 5]) {
    if (keptReach(h, k, 1) < (k - 1) / 2) continue;
    const x = T.randn([b, c, h, h]).keep();
    const w = T.randn([c, 1, k, k]).keep().setRequiresGrad();
    const g = T.randn([b, c, h, h]).keep();
    const conv = () => T.depthwiseConv2d(x, w, { padding: (k - 1) / 2 });
    const fwd = bestMs(() => T.tidy(() => { T.noGrad(conv); }), 20, 5);
    const both = bestMs(() => T.tidy(() => { T.grad(conv(), [w], { grads: [g] }); }), 20, 5);
    const gflop = (2 * b * c * h * h * k * k) / 1e6; // one pass, in MFLOP: / ms = GFLOP/s
    rows.push({ shape: `(${b}, ${c}, ${h}, ${h})`, kernel: `${k}x${k}`, 'forward ms': fwd.toFixed(3), 'forward GFLOP/s': (gflop / fwd).toFixed(1),
      'weight gradient ms': (both - fwd).toFixed(3), 'weight gradient GFLOP/s': (gflop / (both - fwd)).toFixed(1) });
    T.dispose([x, w, g]);
  }
  return rows;
}

/** Forward + both gradients with each of the own kernel's layouts, rounds interleaved, best of each. */
function layoutRows(): Record<string, string>[] {
  const rows: Record<string, string>[] = [];
  for (const [b, c, h] of [...SHAPES, [6, 320, 2]]) for (const k of [3, 5]) {
    if (keptReach(h, k, 1) < (k - 1) / 2 || h > 16) continue; // cut kernels: sameConv2d runs the smaller one
    const x = T.randn([b, c, h, h]).keep().setRequiresGrad();
    const w = T.randn([c, 1, k, k]).keep().setRequiresGrad();
    const g = T.randn([b, c, h, h]).keep();
    const step = (layout: 'planes' | 'channels') => () => T.tidy(() => { T.grad(T.depthwiseConv2d(x, w, { padding: (k - 1) / 2, layout }), [x, w], { grads: [g] }); });
    let [p, ch] = [Infinity, Infinity];
    for (let r = 0; r < 3; r++) [p, ch] = [Math.min(p, bestMs(step('planes'), 20, 2)), Math.min(ch, bestMs(step('channels'), 20, 2))];
    rows.push({ shape: `(${b}, ${c}, ${h}, ${h})`, kernel: `${k}x${k}`, 'planes ms': p.toFixed(3), 'channels ms': ch.toFixed(3), ratio: (p / ch).toFixed(2) });
    T.dispose([x, w, g]);
  }
  return rows;
}

export async function runDepthwiseBench(threads: number, args: string[] = []): Promise<void> {
  T.setNumThreads(threads);
  if (args.includes('--layouts')) {
    printTable(layoutRows());
    console.log(`the own kernel's layouts, forward + input and weight gradients, ${threads} thread(s); ratio = planes / channels (above 1: channels faster)`);
    return;
  }
  if (args.includes('--parts')) {
    printTable(partsRows());
    console.log(`the addon's own kernel, ${threads} thread(s), best of 5 rounds of 20`);
    return;
  }
  const rows: Record<string, string>[] = [];
  for (const [b, c, h] of SHAPES) for (const k of [3, 5]) {
    if (keptReach(h, k, 1) < (k - 1) / 2) continue; // sameConv2d cuts such a kernel first
    const x = T.randn([b, c, h, h]).keep().setRequiresGrad();
    const w = T.randn([c, 1, k, k]).keep().setRequiresGrad();
    const g = T.randn([b, c, h, h]).keep();
    const step = (conv: () => T.Tensor) => () => T.tidy(() => {
      T.backward(T.sum(T.mul(conv(), g)));
      T.dispose([x.grad, w.grad]);
      x.zeroGrad();
      w.zeroGrad();
    });
    const lib = step(() => T.conv2d(x, w, { padding: (k - 1) / 2, groups: c }));
    const own = step(() => T.depthwiseConv2d(x, w, { padding: (k - 1) / 2 }));
    const [a, o] = [bestMs(lib), bestMs(own)];
    rows.push({ shape: `(${b}, ${c}, ${h}, ${h})`, kernel: `${k}x${k}`, 'libtorch ms': a.toFixed(3), 'own ms': o.toFixed(3), ratio: (a / o).toFixed(2) });
    T.dispose([x, w, g]);
  }
  printTable(rows);
  console.log(`forward + input and weight gradients, ${threads} thread(s); ratio = libtorch / own (above 1: own faster)`);
}
