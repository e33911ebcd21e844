/**
 * The searched cell (Sec. 3.1, 4.1.1) at one trellis node, fused for speed.
 * `reference/` holds the same cell written op by op (DARTS' MixedOp); a test
 * proves that both compute the same function and gradients.
 *
 * Weight sharing (Eq. 6; the paper does not say): by default the (up to
 * three) cells that Eq. 6 sums at a node share one set of op weights, as the
 * public PyTorch implementation does; only the arrow preprocessing differs.
 * The decoded network keeps one cell per node, and a shared cell is trained
 * on the inputs of all its arrows; untied cells hold about twice the weights
 * (docs/search.md#what-is-searched). With `untied` (--untied-cells) each arrow's
 * cell has its own op weights, H^{l-2}'s edges included.
 *
 * Fusion: the A arrows sit in the channel dimension, (B, A*C, H, W), so every
 * batch norm keeps per-arrow statistics exactly as A separate cells would.
 * Shared cells: convolutions view the arrows as batch (shared weights, no
 * copies). Untied cells: the arrows stay in the channels and each arrow's
 * weights are one more group of the same grouped convolutions. All edges
 * leaving one hidden state are computed together: one grouped convolution
 * per layer and kernel size for the separable ops of every edge (and arrow),
 * one convolution per atrous op, one pool each, shared by the edges.
 */
import * as T from '../engine';
import { ATROUS_OPS, CONV_OPS, KERNEL, OP_TABLE, POOL_OPS, SEP_OPS } from '../arch/primitives';
import { feedingSources, targetSlot, targetsOf } from '../arch/topology';
import { BatchNorm, BNConfig } from '../nn/layers';
import { convInit, ParameterStore } from '../nn/params';
import { ArchMixer, MixKey, mixKey, sourceEdgeRows } from './mixing';
import type { CellFamily, Pass } from './cell_family';
import { atrousConv, depthwise } from './op_kernels';

/**
 * x itself when it has the shape already, else a reshape: a reshape to the same shape is a view with a backward
 * node of its own, and a sixth of the fused cell's reshapes in a search iteration were such (one arrow as batch, shared weights).
 */
function asShape(x: T.Tensor, shape: number[]): T.Tensor {
  const s = x.shape;
  return s.length === shape.length && s.every((d, i) => d === shape[i]) ? x : T.reshape(x, shape);
}

const NSEP = SEP_OPS.length;
const NCONV = CONV_OPS.length;
const NPOOL = POOL_OPS.length;

/**
 * All ops on the edges that leave one hidden state (E edges, width C, m arrows;
 * G = m weight copies when untied, else 1, and m / G arrows as batch).
 * Weights: dw (G*E*C, 1, k, k) as (copy, edge, channel); pw (NSEP*G*E*C, C, 1, 1)
 * as (sep op, copy, edge, channel); atrous (G*E*C, C, k, k), G groups.
 * Channel layouts of the batch norms (affine-free, as DARTS' search ops):
 *   sep layer-1 BN:  (arrow, SEP_OPS, edge, channel) shared, (SEP_OPS, arrow, edge, channel) untied
 *   conv-op BN:      the same with CONV_OPS, alpha folded in as its scale
 *   pool BN:         (POOL_OPS, arrow, channel)
 */
export class SourceOps {
  readonly edges: number;
  /** Weight copies per edge: m when untied, else 1. */
  readonly copies: number;
  readonly dw1: T.Tensor[]; // per sep op: (G*E*C, 1, k, k)
  readonly pw1: T.Tensor; // (NSEP*G*E*C, C, 1, 1): [sep op, copy, edge, channel]
  readonly dw2: T.Tensor[];
  readonly pw2: T.Tensor;
  readonly atrous: T.Tensor[]; // per atrous op: (G*E*C, C, k, k)
  private readonly sepBn1: BatchNorm;
  private readonly convBn: BatchNorm;
  private readonly poolBn: BatchNorm;

  /** m: how many arrows this state carries (1 for prevPrev of shared cells, which all arrows share). */
  constructor(store: ParameterStore, name: string, readonly source: number, blocks: number,
    readonly channels: number, readonly m: number, untied: boolean, bn: BNConfig) {
    const E = (this.edges = targetsOf(source, blocks).length);
    const G = (this.copies = untied ? m : 1);
    const C = channels;
    const dw = (layer: number) => SEP_OPS.map((op) => store.param(`${name}.${op}.dw${layer}`, [G * E * C, 1, KERNEL[op], KERNEL[op]], convInit(KERNEL[op] ** 2)));
    this.dw1 = dw(1);
    this.pw1 = store.param(`${name}.sep.pw1`, [NSEP * G * E * C, C, 1, 1], convInit(C));
    this.dw2 = dw(2);
    this.pw2 = store.param(`${name}.sep.pw2`, [NSEP * G * E * C, C, 1, 1], convInit(C));
    this.atrous = ATROUS_OPS.map((op) => store.param(`${name}.${op}`, [G * E * C, C, KERNEL[op], KERNEL[op]], convInit(KERNEL[op] ** 2 * C)));
    this.sepBn1 = new BatchNorm(store, `${name}.sep.bn1`, m * NSEP * E * C, bn, false);
    this.convBn = new BatchNorm(store, `${name}.conv_ops.bn`, m * NCONV * E * C, bn, false);
    this.poolBn = new BatchNorm(store, `${name}.pools.bn`, NPOOL * m * C, bn, false);
  }

  /**
   * x: (B, m*C, H, W), arrow-major. Returns the mixed output of every edge,
   * (B, m, E, C, H, W): out[:, a, e] = sum_k alphaHat[edge e][k] * op_k(x_a) (Eq. 2).
   */
  forward(x: T.Tensor, mixer: ArchMixer, pass: Pass): T.Tensor {
    const { m, edges: E, channels: C, copies: G } = this;
    const { training, updateStats } = pass;
    const [B, , H, W] = x.shape;
    const bm = m / G; // arrows as batch
    const EC = E * C;
    const GEC = G * EC;
    const mix = mixer.mix(this.source, m, C, G);
    const r = asShape(T.relu(x), [B * bm, G * C, H, W]);
    // Separable ops, layer 1 and 2 (ReLU -> dw -> pw -> BN each), every edge and kernel in one grouped conv per step.
    // With E > 1 edges one call for both kernels reads r tiled for the edges, (B * bm, G, E, C, H, W) as channels, in
    // place (the copy an expand would make is never built). With one edge the kernels stay separate: r's gradient
    // is then the sum of four (two kernels, two atrous ops), and separate nodes keep autograd's order of adding them.
    const sep1 = E === 1 ? T.cat(this.dw1.map((w) => depthwise(r, w)), 1) : T.sameDepthwiseMixed(r, this.dw1, { repeats: E, block: C });
    let y = T.conv2d(sep1, this.pw1, { groups: NSEP * G * E });
    y = asShape(T.relu(this.sepBn1.forward(asShape(y, [B, m * NSEP * EC, H, W]), training, updateStats)), [B * bm, NSEP * GEC, H, W]);
    // Each sep op's kernel on its own channel slice of y, in one call (no split, no cat).
    y = T.conv2d(T.sameDepthwiseMixed(y, this.dw2), this.pw2, { groups: NSEP * G * E });
    // Atrous ops (regular convolutions at rate 2), then one BN for all conv ops with alpha as its scale.
    const atrous = this.atrous.map((w, i) => atrousConv(r, w, ATROUS_OPS[i], G));
    const z = this.convBn.forward(asShape(T.cat([y, ...atrous], 1), [B, m * NCONV * EC, H, W]), training, updateStats, mix.convOps);
    let out = asShape(T.sum(T.reshape(z, [B, bm, NCONV, G * E, C, H, W]), 2), [B, m, E, C, H, W]);
    // Pools (shared by the edges, weighted per edge) and skip.
    const pools = this.poolBn.forward(T.samePools2d(x, POOL_OPS.map((op) => OP_TABLE[op].pool)), training, updateStats);
    out = T.add(out, T.sum(T.mul(T.reshape(pools, [B, NPOOL, m, 1, C, H, W]), mix.pools), 1));
    return T.add(out, T.mul(T.reshape(x, [B, m, 1, C, H, W]), mix.skip));
  }
}

/** The node's cell: B blocks over prevPrev, prev and earlier blocks (one weight set, or one per arrow when untied). */
export class MixedCell {
  readonly sources: SourceOps[];

  constructor(store: ParameterStore, name: string, readonly blocks: number, readonly channels: number,
    readonly arrows: number, readonly untied: boolean, bn: BNConfig) {
    this.sources = feedingSources(blocks).map((j) =>
      new SourceOps(store, `${name}.src${j}`, j, blocks, channels, j === 0 && !untied ? 1 : arrows, untied, bn));
  }

  /**
   * prev: (B, A*C, H, W), one slice per incoming arrow; prevPrev: (B, C, H, W),
   * shared by the arrows. Returns the blocks of each arrow's cell: (B, A, blocks, C, H, W).
   */
  forward(prev: T.Tensor, prevPrev: T.Tensor, mixer: ArchMixer, pass: Pass): T.Tensor {
    const [B, , H, W] = prev.shape;
    const A = this.arrows;
    const C = this.channels;
    // Untied: every arrow's cell reads H^{l-2} with its own weights, so it is repeated per arrow.
    const pp = this.untied && A > 1 ? T.reshape(T.expand(T.reshape(prevPrev, [B, 1, C, H, W]), [B, A, C, H, W]), [B, A * C, H, W]) : prevPrev;
    // Each source's edges, (B, m, 1, C, H, W) per target: one split (one backward node) rather than a select per edge.
    const edgesOf = (out: T.Tensor) => T.split(out, 1, 2);
    const outs: T.Tensor[][] = [edgesOf(this.sources[0].forward(pp, mixer, pass)), edgesOf(this.sources[1].forward(prev, mixer, pass))];
    const blocks: T.Tensor[] = [];
    for (let i = 0; i < this.blocks; i++) {
      // Eq. 1: block i sums the edges from every earlier state (broadcast over arrows for a shared prevPrev).
      let s: T.Tensor | null = null;
      for (let j = 0; j < i + 2; j++) {
        const part = outs[j][targetSlot(j, i)];
        s = s ? T.add(s, part) : part;
      }
      blocks.push(s!);
      if (i < this.blocks - 1) outs.push(edgesOf(this.sources[i + 2].forward(T.reshape(s!, [B, A * C, H, W]), mixer, pass)));
    }
    return T.cat(blocks, 2);
  }
}

/** The fused cells of one supernet (or of one layer, with alpha per layer) and the ArchMixer they share (one per forward pass). */
export class FusedCells implements CellFamily<ArchMixer> {
  private readonly edgeRows: T.Tensor[];
  /** Every (source, arrows, width, copies) the cells use: what ArchMixer prepares per forward pass. */
  private readonly keys = new Map<string, MixKey>();

  constructor(blocks: number, readonly untied = false) {
    this.edgeRows = sourceEdgeRows(blocks);
  }

  create(store: ParameterStore, name: string, blocks: number, channels: number, arrows: number, bn: BNConfig): MixedCell {
    const cell = new MixedCell(store, name, blocks, channels, arrows, this.untied, bn);
    for (const src of cell.sources) {
      const key: MixKey = { source: src.source, m: src.m, channels: src.channels, copies: src.copies };
      this.keys.set(mixKey(key), key);
    }
    return cell;
  }

  mix(alphaHat: T.Tensor): ArchMixer {
    return new ArchMixer(alphaHat, this.edgeRows, [...this.keys.values()]);
  }

  dispose(): void {
    T.dispose(this.edgeRows);
  }
}
