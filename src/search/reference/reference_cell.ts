/**
 * The searched cell written plainly, as DARTS' model_search.py: a MixedOp
 * per edge (Eq. 2: the alpha-weighted sum of every op), a cell of B blocks
 * (Eq. 1: each block sums the edges from every earlier state), run arrow by
 * arrow. The ops of a node's (up to three) cells are shared, as in the fused
 * cell (../fused_cell.ts), or, untied, every arrow's cell has its own. Shared, the
 * edges from H^{l-2} are computed once, since every arrow's cell reads the
 * same H^{l-2} with the same ops. Slow (every arrow, edge and op on its own)
 * and obviously right: the fused cell is tested against it.
 */
import * as T from '../../engine';
import { PRIMITIVE_INDEX, PRIMITIVES } from '../../arch/primitives';
import { edgeIndex } from '../../arch/topology';
import { BNConfig } from '../../nn/layers';
import { ParameterStore } from '../../nn/params';
import type { CellFamily, Pass, SearchCell } from '../cell_family';
import { OpWeights, SEARCH_OPS, SearchOp } from './reference_ops';

/** Eq. 2: sum over ops of softmax(alpha)[op] * op(x). */
export class MixedOp {
  readonly ops: [keyof typeof SEARCH_OPS, SearchOp & { weights: OpWeights }][];
  constructor(store: ParameterStore, name: string, C: number, arrows: number, bn: BNConfig) {
    this.ops = PRIMITIVES.filter((p) => p !== 'zero').map((p) => {
      const op = p as keyof typeof SEARCH_OPS;
      return [op, SEARCH_OPS[op](store, `${name}.${op}`, C, arrows, bn)];
    });
  }
  /** x: (B, C, H, W); alphaRow: (|PRIMITIVES|,) softmaxed. */
  forward(x: T.Tensor, alphaRow: T.Tensor, arrow: number, pass: Pass): T.Tensor {
    const terms = this.ops.map(([name, op]) => T.mul(op.forward(x, arrow, pass), T.select(alphaRow, 0, PRIMITIVE_INDEX[name])));
    return terms.reduce((s, v) => T.add(s, v));
  }
}

export class ReferenceCell implements SearchCell<T.Tensor> {
  /**
   * edgeSets[g][i][j]: the MixedOp from state j (0 prevPrev, 1 prev, 2 + m block m)
   * into block i; one set shared by the arrows, or one per arrow when untied.
   */
  readonly edgeSets: MixedOp[][][];

  constructor(store: ParameterStore, name: string, readonly blocks: number, readonly channels: number, readonly arrows: number,
    readonly untied: boolean, bn: BNConfig) {
    const edges = (prefix: string, arrowStats: number) => Array.from({ length: blocks }, (_, i) => Array.from({ length: i + 2 }, (_, j) =>
      new MixedOp(store, `${prefix}.block${i}.from${j}`, channels, j === 0 ? 1 : arrowStats, bn)));
    this.edgeSets = untied ? Array.from({ length: arrows }, (_, a) => edges(`${name}.arrow${a}`, 1)) : [edges(name, arrows)];
  }

  /** prev: (B, A*C, H, W); prevPrev: (B, C, H, W); alphaHat: (numEdges, |PRIMITIVES|) -> (B, A, blocks, C, H, W). */
  forward(prev: T.Tensor, prevPrev: T.Tensor, alphaHat: T.Tensor, pass: Pass): T.Tensor {
    const C = this.channels;
    // Shared: H^{l-2} is the same for every arrow's cell, so are its edges: computed once.
    const shared = this.untied ? undefined : this.prevPrevEdges(this.edgeSets[0], prevPrev, alphaHat, pass);
    const perArrow = Array.from({ length: this.arrows }, (_, a) => this.arrowCell(a, T.narrow(prev, 1, a * C, C), prevPrev, alphaHat, pass, shared));
    return T.stack(perArrow, 1);
  }

  /**
   * Arrow a's cell alone (Eq. 1-2): prevArrow (B, C, H, W) its H^{l-1},
   * prevPrev (B, C, H, W) -> its blocks (B, blocks, C, H, W). fromPrevPrev:
   * the edges out of H^{l-2} when the caller computed them (shared cells).
   */
  arrowCell(a: number, prevArrow: T.Tensor, prevPrev: T.Tensor, alphaHat: T.Tensor, pass: Pass, fromPrevPrev?: T.Tensor[]): T.Tensor {
    // Untied, each arrow's cell is a whole cell of its own (its BN statistics are its own: index 0).
    const [edges, stats] = this.untied ? [this.edgeSets[a], 0] : [this.edgeSets[0], a];
    const pp = fromPrevPrev ?? this.prevPrevEdges(edges, prevPrev, alphaHat, pass);
    const states = [prevPrev, prevArrow];
    for (let i = 0; i < this.blocks; i++) {
      let s = pp[i];
      for (let j = 1; j < i + 2; j++) s = T.add(s, edges[i][j].forward(states[j], T.select(alphaHat, 0, edgeIndex(i, j)), stats, pass));
      states.push(s);
    }
    return T.stack(states.slice(2), 1);
  }

  /** The edge from H^{l-2} into each block (arrow 0's statistics: one per cell when untied, H^{l-2}'s own when shared). */
  private prevPrevEdges(edges: MixedOp[][], prevPrev: T.Tensor, alphaHat: T.Tensor, pass: Pass): T.Tensor[] {
    return edges.map((e, i) => e[0].forward(prevPrev, T.select(alphaHat, 0, edgeIndex(i, 0)), 0, pass));
  }
}

export class ReferenceCells implements CellFamily<T.Tensor> {
  constructor(readonly untied = false) {}
  create(store: ParameterStore, name: string, blocks: number, channels: number, arrows: number, bn: BNConfig): ReferenceCell {
    return new ReferenceCell(store, name, blocks, channels, arrows, this.untied, bn);
  }
  /** The reference cells read softmax(alpha) itself (one layer's rows with alpha per layer). */
  mix(alphaHat: T.Tensor): T.Tensor {
    return alphaHat;
  }
  dispose(): void {}
}
