/**
 * A decoded cell (Sec. 3.1) as released: h0 = ReLU-1x1-BN(previous cell),
 * h1 = the cell before, resized to h0's size and projected when its width
 * differs; each block sums two ops; the output concatenates all blocks.
 */
import * as T from '../engine';
import { BatchNorm, BNConfig } from '../nn/layers';
import { convInit, ParameterStore } from '../nn/params';
import { CellGenotype } from '../arch/genotype';
import { inputIndex } from '../arch/topology';
import { CellOp, OPS } from './cell_ops';

/** Scheduled drop path (Zoph et al.): per-sample mask on an op output, rescaled by 1/keep. */
export function dropPath(x: T.Tensor, keep: number): T.Tensor {
  if (keep >= 1) return x;
  const [B] = x.shape;
  const mask = T.floor(T.add(T.uniform([B, 1, 1, 1], 0, 1, { dtype: x.dtype as 'float32' | 'float64', device: x.device }), keep));
  return T.mul(x, T.div(mask, keep));
}

export class GenotypeCell {
  private readonly pre0: { w: T.Tensor; bn: BatchNorm };
  private readonly pre1: { w: T.Tensor; bn: BatchNorm } | null;
  private readonly ops: [CellOp, CellOp][];
  readonly outChannels: number;

  /**
   * cin0/cin1: widths of the previous cell and the one before; filters: F * 2^level;
   * stride 2 when this cell moves to a coarser level than the previous one.
   */
  constructor(store: ParameterStore, name: string, readonly genotype: CellGenotype, cin0: number, cin1: number,
    readonly filters: number, readonly stride: 1 | 2, bn: BNConfig) {
    this.pre0 = { w: store.param(`${name}.pre0.conv.weight`, [filters, cin0, 1, 1], convInit(cin0)), bn: new BatchNorm(store, `${name}.pre0.bn`, filters, bn, true) };
    this.pre1 = cin1 !== filters
      ? { w: store.param(`${name}.pre1.conv.weight`, [filters, cin1, 1, 1], convInit(cin1)), bn: new BatchNorm(store, `${name}.pre1.bn`, filters, bn, true) }
      : null;
    this.ops = genotype.blocks.map((block, i) => block.map((br, j) => OPS[br.op]({
      store, name: `${name}.block${i}.${j}`, cin: filters, cout: filters,
      // Only the ops that read the cell inputs move to the coarser level.
      stride: inputIndex(br.input) < 2 ? stride : 1, bn,
    })) as [CellOp, CellOp]);
    this.outChannels = genotype.blocks.length * filters;
  }

  /** h0: previous cell (B, cin0, H, W); h1: the one before. keep: drop-path keep probability of the ops but skips. */
  forward(h0: T.Tensor, h1: T.Tensor, training: boolean, keep = 1): T.Tensor {
    const [, , H, W] = h0.shape;
    const s0 = this.pre0.bn.forward(T.conv2d(T.relu(h0), this.pre0.w), training);
    let s1 = h1.shape[2] !== H || h1.shape[3] !== W ? T.resizeBilinear(h1, [H, W], true) : h1;
    if (this.pre1) s1 = this.pre1.bn.forward(T.conv2d(T.relu(s1), this.pre1.w), training);
    const states = [s1, s0]; // indexed as inputIndex: prevPrev 0, prev 1, block j 2 + j
    this.genotype.blocks.forEach((block, i) => {
      const [a, b] = block.map((br, j) => {
        const y = this.ops[i][j].forward(states[inputIndex(br.input)], training);
        // Skips are never dropped, projected or not (TF's NASNet/DeepLab cells drop every op but 'none').
        return training && br.op !== 'skip' ? dropPath(y, keep) : y;
      });
      states.push(T.add(a, b));
    });
    return T.cat(states.slice(2), 1);
  }
}
