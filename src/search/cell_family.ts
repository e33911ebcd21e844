/**
 * What a searched cell is to the rest of the supernet, whichever
 * implementation builds it (fused_cell.ts: fused for the search; reference/reference_cell.ts:
 * op by op), and how a forward pass runs. Both implementations and the
 * trellis nodes (nodes.ts) import these; none of them imports another.
 */
import * as T from '../engine';
import { BNConfig } from '../nn/layers';
import { ParameterStore } from '../nn/params';

/** How a forward pass runs: training mode, and whether BN running statistics count this pass. */
export interface Pass {
  training: boolean;
  updateStats: boolean;
}

/** A node's cell: prev (B, A*C, H, W), one slice per arrow; prevPrev (B, C, H, W) -> (B, A, blocks, C, H, W). */
export interface SearchCell<Mix> {
  forward(prev: T.Tensor, prevPrev: T.Tensor, mix: Mix, pass: Pass): T.Tensor;
}

/** Builds the cells of one supernet, and the per-forward view of softmax(alpha) that they read. */
export interface CellFamily<Mix> {
  create(store: ParameterStore, name: string, blocks: number, channels: number, arrows: number, bn: BNConfig): SearchCell<Mix>;
  /** Called once per forward pass, in that pass's scope (alphaHat: (numEdges, |PRIMITIVES|)). */
  mix(alphaHat: T.Tensor): Mix;
  dispose(): void;
}
