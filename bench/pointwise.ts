/**
 * `npm run bench -- pointwise [--threads N]`: 1x1 convolution forward +
 * backward, libtorch's conv2d against pointwiseConv2d (the addon's own
 * kernel), rounds of both interleaved, best round of each. The shapes: the
 * supernet's grouped pointwise convolutions (10 groups: 2 separable ops x 5
 * edges) and its ungrouped ones at crop 32 (batch 2) and 64 (6 = 2 images x 3
 * arrows), and the retrained network's at larger maps. Decides which 1x1
 * convolutions conv2d routes to pointwiseConv2d.
 */
import * as T from '../src/engine';
import { callTensor } from '../src/engine/dispatch';
import { bestMs } from './depthwise';
import { printTable } from './report';

/** [batch, groups, inputs per group, outputs per group, side]. */
const SHAPES = [[2, 10, 8, 8, 8], [2, 10, 16, 16, 4], [2, 10, 32, 32, 2], [2, 10, 64, 64, 1], [2, 1, 64, 320, 1], [2, 1, 32, 32, 8],
  [4, 1, 64, 320, 2], [4, 10, 64, 64, 2], // rows of 4 positions (16 with the batch folded in): atrous ops cut to their centre tap, grouped pointwise at level 32, crop 64
  [6, 10, 8, 8, 16], [6, 10, 16, 16, 8], [6, 10, 32, 32, 4], [2, 10, 32, 32, 4], // level 16 at crop 64 (6: 2 images x 3 arrows) and 32
  [6, 1, 24, 8, 16], [8, 1, 40, 40, 32], [8, 1, 160, 160, 16], [8, 1, 80, 80, 64]];

export async function runPointwiseBench(threads: number): Promise<void> {
  T.setNumThreads(threads);
  const rows: Record<string, string>[] = [];
  for (const [b, g, k, n, h] of SHAPES) {
    const x = T.randn([b, g * k, h, h]).keep().setRequiresGrad();
    const w = T.randn([g * n, k, 1, 1]).keep().setRequiresGrad();
    const gy = T.randn([b, g * n, h, h]).keep();
    const step = (conv: () => T.Tensor) => () => T.tidy(() => {
      T.backward(T.sum(T.mul(conv(), gy)));
      T.dispose([x.grad, w.grad]);
      x.zeroGrad();
      w.zeroGrad();
    });
    const lib = step(() => callTensor('aten::conv2d', [x, w, null, [1, 1], [0, 0], [1, 1], g]));
    const own = step(() => T.pointwiseConv2d(x, w, g));
    const [a, o] = [bestMs(lib), bestMs(own)];
    rows.push({ x: `(${b}, ${g * k}, ${h}, ${h})`, groups: String(g), out: String(g * n), 'MACs': String(b * g * n * k * h * h), 'libtorch ms': a.toFixed(3), 'own ms': o.toFixed(3), ratio: (a / o).toFixed(2) });
    T.dispose([x, w, gy]);
  }
  printTable(rows);
  console.log(`forward + input and weight gradients, ${threads} thread(s); ratio = libtorch / own (above 1: own faster)`);
}
