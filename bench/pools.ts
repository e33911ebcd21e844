/**
 * `npm run bench -- pools [--threads N]`: the search cell's two 3x3 pools of one input (stride 1, 'same'
 * padding) and their cat, forward + backward: libtorch's avg_pool2d and max_pool2d against samePools2d (the
 * addon's own kernel, one call), rounds of both interleaved, best round of each. The shapes: the supernet's
 * pool inputs (B, m*C, H, W) at crop 64 (batch 2; maps 16 to 2; m arrows of C channels) and 128, most called first.
 */
import * as T from '../src/engine';
import { callTensor } from '../src/engine/dispatch';
import { bestMs } from './depthwise';
import { printTable } from './report';

const SHAPES = [[2, 16, 16], [2, 48, 8], [2, 96, 4], [2, 8, 16], [2, 128, 2], [2, 16, 8], [2, 16, 32], [2, 48, 16]];

export async function runPoolsBench(threads: number): Promise<void> {
  T.setNumThreads(threads);
  const rows: Record<string, string>[] = [];
  for (const [b, c, h] of SHAPES) {
    const x = T.randn([b, c, h, h]).keep().setRequiresGrad();
    const gy = T.randn([b, 2 * c, h, h]).keep();
    const step = (pools: () => T.Tensor) => () => T.tidy(() => {
      T.backward(T.sum(T.mul(pools(), gy)));
      T.dispose([x.grad]);
      x.zeroGrad();
    });
    const lib = step(() => T.cat([callTensor('aten::avg_pool2d', [x, [3, 3], [1, 1], [1, 1], false, false, null]),
      callTensor('aten::max_pool2d', [x, [3, 3], [1, 1], [1, 1], [1, 1], false])], 1));
    const own = step(() => T.samePools2d(x, ['avg', 'max']));
    const [a, o] = [bestMs(lib, 20), bestMs(own, 20)];
    rows.push({ x: `(${b}, ${c}, ${h}, ${h})`, 'libtorch ms': a.toFixed(3), 'own ms': o.toFixed(3), ratio: (a / o).toFixed(2) });
    T.dispose([x, gy]);
  }
  printTable(rows);
  console.log(`avg and max 3x3 pools and their cat, forward + input gradient, ${threads} thread(s); ratio = libtorch / own (above 1: own faster)`);
}
