/**
 * The searched cell (Sec. 3.1, 4.1.1) at one trellis node, fused for speed.
 * `reference/` holds the same cell written op by op (DARTS' MixedOp); a test
 * proves that both compute the same function and gradients.
 *
 * Weight sharing: the (up to three) cells that Eq. 6 sums at a node share one
 * set of op weights; only the arrow preprocessing differs. The decoded network
 * keeps one cell per node, and a shared cell is trained on the inputs of all
 * its arrows, so its weights stay meaningful whichever arrow wins. At L = 12,
 * F = 8 this is 44.4M weights instead of 94.0M untied (2.1x fewer), and it lets
 * the three cells run as one.
 *
 * Fusion: the A arrows sit in the channel dimension, (B, A*C, H, W), so every
 * batch norm keeps per-arrow statistics exactly as A separate cells would,
 * while convolutions view the arrows as batch (shared weights, no copies). All
 * edges leaving one hidden state are computed together: one grouped
 * convolution per layer and kernel size for the separable ops of every edge,
 * one convolution per atrous op, one pool each, shared by the edges.
 */
import * as T from '../engine';
import { ATROUS_OPS, CONV_OPS, KERNEL, POOL_OPS, SEP_OPS } from '../arch/primitives';
import { feedingSources, targetSlot, targetsOf } from '../arch/topology';
import { BatchNorm, BNConfig } from '../nn/layers';
import { convInit, ParameterStore } from '../nn/params';
import { ArchMixer, MixKey, sourceEdgeRows } from './mixing';
import type { CellFamily } from './nodes';
import { atrousConv, depthwise, POOLS } from './ops';

/** How a forward pass runs: training mode, and whether BN running statistics count this pass. */
export interface Pass {
  training: boolean;
  updateStats: boolean;
}

const NSEP = SEP_OPS.length;
const NCONV = CONV_OPS.length;
const NPOOL = POOL_OPS.length;

/**
 * All ops on the edges that leave one hidden state (E edges, width C, m arrows).
 * Channel layouts of the batch norms (affine-free, as DARTS' search ops):
 *   sep layer-1 BN:  (arrow, SEP_OPS, edge, channel)
 *   conv-op BN:      (arrow, CONV_OPS, edge, channel), alpha folded in as its scale
 *   pool BN:         (POOL_OPS, arrow, channel)
 */
export class SourceOps {
  readonly edges: number;
  readonly dw1: T.Tensor[]; // per sep op: (E*C, 1, k, k)
  readonly pw1: T.Tensor; // (NSEP*E*C, C, 1, 1): [sep op, edge, channel]
  readonly dw2: T.Tensor[];
  readonly pw2: T.Tensor;
  readonly atrous: T.Tensor[]; // per atrous op: (E*C, C, k, k)
  private readonly sepBn1: BatchNorm;
  private readonly convBn: BatchNorm;
  private readonly poolBn: BatchNorm;

  /** m: how many arrows this state carries (1 for prevPrev, which all arrows share). */
  constructor(store: ParameterStore, name: string, readonly source: number, blocks: number,
    readonly channels: number, readonly m: number, bn: BNConfig) {
    const E = (this.edges = targetsOf(source, blocks).length);
    const C = channels;
    const dw = (layer: number) => SEP_OPS.map((op) => store.param(`${name}.${op}.dw${layer}`, [E * C, 1, KERNEL[op], KERNEL[op]], convInit(KERNEL[op] ** 2)));
    this.dw1 = dw(1);
    this.pw1 = store.param(`${name}.sep.pw1`, [NSEP * E * C, C, 1, 1], convInit(C));
    this.dw2 = dw(2);
    this.pw2 = store.param(`${name}.sep.pw2`, [NSEP * E * C, C, 1, 1], convInit(C));
    this.atrous = ATROUS_OPS.map((op) => store.param(`${name}.${op}`, [E * C, C, KERNEL[op], KERNEL[op]], convInit(KERNEL[op] ** 2 * C)));
    this.sepBn1 = new BatchNorm(store, `${name}.sep.bn1`, m * NSEP * E * C, bn, false);
    this.convBn = new BatchNorm(store, `${name}.conv_ops.bn`, m * NCONV * E * C, bn, false);
    this.poolBn = new BatchNorm(store, `${name}.pools.bn`, NPOOL * m * C, bn, false);
  }

  /**
   * x: (B, m*C, H, W), arrow-major. Returns the mixed output of every edge,
   * (B, m, E, C, H, W): out[:, a, e] = sum_k alphaHat[edge e][k] * op_k(x_a) (Eq. 2).
   */
  forward(x: T.Tensor, mixer: ArchMixer, pass: Pass): T.Tensor {
    const { m, edges: E, channels: C } = this;
    const { training, updateStats } = pass;
    const [B, , H, W] = x.shape;
    const EC = E * C;
    const mix = mixer.mix(this.source, m, C);
    const r = T.reshape(T.relu(x), [B * m, C, H, W]); // arrows as batch for the convolutions
    const xr = E === 1 ? r : T.reshape(T.expand(T.reshape(r, [B * m, 1, C, H, W]), [B * m, E, C, H, W]), [B * m, EC, H, W]);
    // Separable ops, layer 1 and 2 (ReLU -> dw -> pw -> BN each), every edge and kernel in one grouped conv per step.
    let y = T.conv2d(T.cat(this.dw1.map((w) => depthwise(xr, w)), 1), this.pw1, { groups: NSEP * E });
    y = T.reshape(T.relu(this.sepBn1.forward(T.reshape(y, [B, m * NSEP * EC, H, W]), training, updateStats)), [B * m, NSEP * EC, H, W]);
    y = T.cat(this.dw2.map((w, i) => depthwise(T.narrow(y, 1, i * EC, EC), w)), 1);
    y = T.conv2d(y, this.pw2, { groups: NSEP * E });
    // Atrous ops (regular convolutions at rate 2), then one BN for all conv ops with alpha as its scale.
    const atrous = this.atrous.map((w, i) => atrousConv(r, w, ATROUS_OPS[i]));
    const z = this.convBn.forward(T.reshape(T.cat([y, ...atrous], 1), [B, m * NCONV * EC, H, W]), training, updateStats, mix.convOps);
    let out = T.sum(T.reshape(z, [B, m, NCONV, E, C, H, W]), 2);
    // Pools (shared by the edges, weighted per edge) and skip.
    const pools = this.poolBn.forward(T.cat(POOL_OPS.map((op) => POOLS[op](x)), 1), training, updateStats);
    out = T.add(out, T.sum(T.mul(T.reshape(pools, [B, NPOOL, m, 1, C, H, W]), mix.pools), 1));
    return T.add(out, T.mul(T.reshape(x, [B, m, 1, C, H, W]), mix.skip));
  }
}

/** The node's cell: B blocks over prevPrev, prev and earlier blocks. */
export class MixedCell {
  readonly sources: SourceOps[];

  constructor(store: ParameterStore, name: string, readonly blocks: number, readonly channels: number,
    readonly arrows: number, bn: BNConfig) {
    this.sources = feedingSources(blocks).map((j) => new SourceOps(store, `${name}.src${j}`, j, blocks, channels, j === 0 ? 1 : arrows, bn));
  }

  /**
   * prev: (B, A*C, H, W), one slice per incoming arrow; prevPrev: (B, C, H, W),
   * shared by the arrows. Returns the blocks of each arrow's cell: (B, A, blocks, C, H, W).
   */
  forward(prev: T.Tensor, prevPrev: T.Tensor, mixer: ArchMixer, pass: Pass): T.Tensor {
    const [B, , H, W] = prev.shape;
    const A = this.arrows;
    const C = this.channels;
    const outs: T.Tensor[] = [this.sources[0].forward(prevPrev, mixer, pass), this.sources[1].forward(prev, mixer, pass)];
    const blocks: T.Tensor[] = [];
    for (let i = 0; i < this.blocks; i++) {
      // Eq. 1: block i sums the edges from every earlier state (broadcast over arrows for prevPrev).
      let s: T.Tensor | null = null;
      for (let j = 0; j < i + 2; j++) {
        const part = T.select(outs[j], 2, targetSlot(j, i));
        s = s ? T.add(s, part) : part;
      }
      blocks.push(s!);
      if (i < this.blocks - 1) outs.push(this.sources[i + 2].forward(T.reshape(s!, [B, A * C, H, W]), mixer, pass));
    }
    return T.stack(blocks, 2);
  }
}

/** The fused cells of one supernet and the ArchMixer they share (one per forward pass). */
export class FusedCells implements CellFamily<ArchMixer> {
  private readonly edgeRows: T.Tensor[];
  /** Every (source, arrows, width) the cells use: what ArchMixer prepares per forward pass. */
  private readonly keys = new Map<string, MixKey>();

  constructor(blocks: number) {
    this.edgeRows = sourceEdgeRows(blocks);
  }

  create(store: ParameterStore, name: string, blocks: number, channels: number, arrows: number, bn: BNConfig): MixedCell {
    const cell = new MixedCell(store, name, blocks, channels, arrows, bn);
    for (const src of cell.sources) this.keys.set(`${src.source}:${src.m}:${src.channels}`, { source: src.source, m: src.m, channels: src.channels });
    return cell;
  }

  mix(alphaHat: T.Tensor): ArchMixer {
    return new ArchMixer(alphaHat, this.edgeRows, [...this.keys.values()]);
  }

  dispose(): void {
    T.dispose(this.edgeRows);
  }
}
