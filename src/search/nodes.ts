/**
 * A node of the trellis (Sec. 4.1.2, Eq. 6): the preprocessing of each
 * incoming arrow, of H^{l-2}, and the node's cell, whichever implementation
 * builds it (`CellFamily`: fused for the search, op by op for reference).
 */
import * as T from '../engine';
import { betaIndex } from '../arch/topology';
import { Arrow } from '../arch/trellis';
import { BNConfig, ReLUConvBN } from '../nn/layers';
import { ParameterStore } from '../nn/params';
import { CellFamily, Pass, SearchCell } from './cell_family';

/** Incoming-arrow preprocessing (Sec. 5.1): s/2 -> s stride-2 conv, s -> s 1x1, 2s -> s upsample + 1x1. */
export class ArrowPre {
  private readonly conv: ReLUConvBN;
  constructor(store: ParameterStore, name: string, cin: number, cout: number, readonly arrow: Arrow, bn: BNConfig) {
    const down = arrow.dir === 1;
    this.conv = new ReLUConvBN(store, name, cin, cout, { kernel: down ? 3 : 1, stride: down ? 2 : 1, bn, affine: false });
  }
  forward(x: T.Tensor, size: number, pass: Pass): T.Tensor {
    const input = this.arrow.dir === -1 ? T.resizeBilinear(x, [size, size], true) : x;
    return this.conv.forward(input, pass.training, pass.updateStats);
  }
}

export interface NodeSpec {
  layer: number;
  level: number;
  arrows: Arrow[];
  /** Channels of each arrow's source, of H^{l-2}, and per block here (F * 2^level). */
  inChannels: (arrow: Arrow) => number;
  prevPrevChannels: number;
  channels: number;
  blocks: number;
  levels: number;
}

export class TrellisNode<Mix> {
  readonly layer: number;
  readonly level: number;
  readonly arrows: Arrow[];
  readonly pre: ArrowPre[];
  readonly prevPrevPre: ReLUConvBN;
  readonly cell: SearchCell<Mix>;
  /** Rows of beta (flattened) of this node's incoming arrows, in `arrows` order. */
  readonly betaRows: T.Tensor;

  constructor(store: ParameterStore, s: NodeSpec, family: CellFamily<Mix>, bn: BNConfig) {
    [this.layer, this.level, this.arrows] = [s.layer, s.level, s.arrows];
    const name = `layer${s.layer}.level${s.level}`;
    this.pre = s.arrows.map((a) => new ArrowPre(store, `${name}.pre_from${a.from}`, s.inChannels(a), s.channels, a, bn));
    this.prevPrevPre = new ReLUConvBN(store, `${name}.pre_prevprev`, s.prevPrevChannels, s.channels, { kernel: 1, bn, affine: false });
    this.cell = family.create(store, `${name}.cell`, s.blocks, s.channels, s.arrows.length, bn);
    const rows = s.arrows.map((a) => betaIndex(s.layer, a.from, a.dir, s.levels));
    this.betaRows = T.tensor(rows, [rows.length], { dtype: 'int64' }).keep();
  }

  /**
   * prev: the previous layer's states by level; prevPrev: H^{l-2}, resized
   * here to this node's size when it is at another level. Eq. 6: the cells of the incoming arrows, each weighted by
   * its own normalised beta, summed. Returns (B, blocks * C, size, size).
   */
  forward(prev: Map<number, T.Tensor>, prevPrev: T.Tensor, size: number, mix: Mix, betaFlat: T.Tensor, pass: Pass): T.Tensor {
    const inputs = this.pre.map((p) => p.forward(prev.get(p.arrow.from)!, size, pass));
    const resized = prevPrev.shape[2] === size ? prevPrev : T.resizeBilinear(prevPrev, [size, size], false);
    const pp = this.prevPrevPre.forward(resized, pass.training, pass.updateStats);
    const prevAll = inputs.length === 1 ? inputs[0] : T.cat(inputs, 1);
    const blocks = this.cell.forward(prevAll, pp, mix, pass); // (B, A, blocks, C, h, w)
    const beta = T.reshape(T.indexSelect(betaFlat, 0, this.betaRows), [1, this.arrows.length, 1, 1, 1, 1]);
    const [B, , nb, C] = blocks.shape;
    return T.reshape(T.sum(T.mul(blocks, beta), 1), [B, nb * C, size, size]);
  }

  dispose(): void {
    this.betaRows.dispose();
  }
}
