/**
 * The searched cell (Sec. 3.1, 4.1.1) at one trellis node, in a batched form.
 *
 * Weight sharing: the (up to three) cells that Eq. 6 sums at a node share one
 * set of weights; only the arrow preprocessing differs. The decoded network
 * keeps one cell per node, and a shared cell is trained on the inputs of all
 * its arrows, so its weights stay meaningful whichever arrow wins; it also has
 * a third of the weights, and lets the three cells run as one.
 *
 * Batching: the A arrows sit in the channel dimension, (B, A*C, H, W), so
 * every batch norm keeps per-arrow statistics exactly as A separate cells
 * would, while convolutions view the arrows as batch (shared weights, no
 * copies). All edges leaving one hidden state are computed together: one
 * grouped convolution per layer and kernel size for the sep ops of every
 * edge, one convolution per atrous size, one pool each shared by the edges. `forwardPlain` computes the same function op by op;
 * test/search/cell_equivalence.test.ts proves they agree on shared weights.
 */
import * as T from '../engine';
import { BNConfig, bnMomentum } from '../nn/layers';
import { ParameterStore } from '../nn/params';
import { targetsOf } from '../arch/topology';
import { ArchMixer } from './mixing';
import { PRIMITIVE_INDEX } from '../arch/primitives';

/** A batch-norm site without affine parameters (DARTS' search ops), with running statistics. */
class SearchBN {
  readonly runningMean: T.Tensor;
  readonly runningVar: T.Tensor;
  constructor(store: ParameterStore, name: string, readonly channels: number, private readonly cfg: BNConfig) {
    this.runningMean = store.buffer(`${name}.running_mean`, T.zeros([channels]));
    this.runningVar = store.buffer(`${name}.running_var`, T.ones([channels]));
  }
  /** Channels [offset, offset + n) only (the plain path's view of one arrow/edge/op). */
  forward(x: T.Tensor, training: boolean, weight: T.Tensor | null = null, offset = 0, n = this.channels): T.Tensor {
    const whole = offset === 0 && n === this.channels;
    return T.batchNorm(x, {
      weight,
      runningMean: whole ? this.runningMean : T.narrow(this.runningMean, 0, offset, n),
      runningVar: whole ? this.runningVar : T.narrow(this.runningVar, 0, offset, n),
      training, momentum: bnMomentum(this.cfg), eps: this.cfg.eps,
    });
  }
}

const DW = (x: T.Tensor, w: T.Tensor) => T.conv2d(x, w, { padding: (w.shape[3] - 1) / 2, groups: w.shape[0] });

/**
 * All ops on the edges that leave one hidden state (E edges, width C, m arrows).
 *
 * Conv ops run on the arrows as batch, (B*m, ...), one convolution per layer
 * and kernel size for all E edges (grouped by edge). Their last batch norms
 * run as one, on the arrows as channels, (B, m*4*E*C), with alpha folded in
 * as the BN scale (alpha * BN(y) = BN(y; weight = alpha)). Channel layouts:
 *   sep layer-1 BN:  (arrow, [sep3, sep5], edge, channel)
 *   conv-op BN:      (arrow, [sep3, sep5, atrous3, atrous5], edge, channel)
 *   pool BN:         ([avg, max], arrow, channel)
 */
export class SourceOps {
  readonly edges: number;
  private readonly dw1: [T.Tensor, T.Tensor]; // (E*C, 1, k, k) for k = 3, 5
  private readonly pw1: T.Tensor; // (2*E*C, C, 1, 1): [sep3 edges, sep5 edges]
  private readonly dw2: [T.Tensor, T.Tensor];
  private readonly pw2: T.Tensor;
  private readonly atr: [T.Tensor, T.Tensor]; // (E*C, C, k, k), rate 2
  private readonly sepBn1: SearchBN;
  private readonly convBn: SearchBN;
  private readonly poolBn: SearchBN;

  /** m: how many arrows this state carries (1 for prevPrev, which all arrows share). */
  constructor(store: ParameterStore, name: string, readonly source: number, blocks: number,
    readonly channels: number, readonly m: number, bn: BNConfig) {
    const E = (this.edges = targetsOf(source, blocks).length);
    const C = channels;
    const u = (bound: number) => (shape: number[]) => T.uniform(shape, -bound, bound);
    // PyTorch's default conv init bounds: 1 / sqrt(fan-in).
    this.dw1 = [store.param(`${name}.sep3x3.dw1`, [E * C, 1, 3, 3], u(1 / 3)), store.param(`${name}.sep5x5.dw1`, [E * C, 1, 5, 5], u(1 / 5))];
    this.pw1 = store.param(`${name}.sep.pw1`, [2 * E * C, C, 1, 1], u(1 / Math.sqrt(C)));
    this.dw2 = [store.param(`${name}.sep3x3.dw2`, [E * C, 1, 3, 3], u(1 / 3)), store.param(`${name}.sep5x5.dw2`, [E * C, 1, 5, 5], u(1 / 5))];
    this.pw2 = store.param(`${name}.sep.pw2`, [2 * E * C, C, 1, 1], u(1 / Math.sqrt(C)));
    this.atr = [
      store.param(`${name}.atrous3x3`, [E * C, C, 3, 3], u(1 / Math.sqrt(9 * C))),
      store.param(`${name}.atrous5x5`, [E * C, C, 5, 5], u(1 / Math.sqrt(25 * C))),
    ];
    this.sepBn1 = new SearchBN(store, `${name}.sep.bn1`, m * 2 * E * C, bn);
    this.convBn = new SearchBN(store, `${name}.conv_ops.bn`, m * 4 * E * C, bn);
    this.poolBn = new SearchBN(store, `${name}.pools.bn`, 2 * m * C, bn);
  }

  /**
   * x: (B, m*C, H, W), arrow-major. Returns the mixed output of every edge,
   * (B, m, E, C, H, W): out[:, a, e] = sum_k alphaHat[edge e][k] * op_k(x_a).
   */
  forward(x: T.Tensor, mixer: ArchMixer, training: boolean): T.Tensor {
    const { m, edges: E, channels: C } = this;
    const [B, , H, W] = x.shape;
    const EC = E * C;
    const mix = mixer.mix(this.source, m, C);
    const r = T.reshape(T.relu(x), [B * m, C, H, W]); // arrows as batch for the convolutions
    const xr = E === 1 ? r : T.reshape(T.expand(T.reshape(r, [B * m, 1, C, H, W]), [B * m, E, C, H, W]), [B * m, EC, H, W]);
    // sep3x3 and sep5x5, layer 1 and 2 (ReLU -> dw -> pw -> BN each).
    let y = T.conv2d(T.cat([DW(xr, this.dw1[0]), DW(xr, this.dw1[1])], 1), this.pw1, { groups: 2 * E });
    y = T.reshape(T.relu(this.sepBn1.forward(T.reshape(y, [B, m * 2 * EC, H, W]), training)), [B * m, 2 * EC, H, W]);
    y = T.cat([DW(T.narrow(y, 1, 0, EC), this.dw2[0]), DW(T.narrow(y, 1, EC, EC), this.dw2[1])], 1);
    y = T.conv2d(y, this.pw2, { groups: 2 * E });
    // atrous 3x3 and 5x5 (rate 2, regular convolutions), then one BN for the four conv ops.
    const a3 = T.conv2d(r, this.atr[0], { padding: 2, dilation: 2 });
    const a5 = T.conv2d(r, this.atr[1], { padding: 4, dilation: 2 });
    const z = this.convBn.forward(T.reshape(T.cat([y, a3, a5], 1), [B, m * 4 * EC, H, W]), training, mix.convOps);
    let out = T.sum(T.reshape(z, [B, m, 4, E, C, H, W]), 2);
    // Pools (shared by the edges, weighted per edge) and skip.
    const pools = this.poolBn.forward(T.cat([T.avgPool2d(x, 3, { stride: 1, padding: 1 }), T.maxPool2d(x, 3, { stride: 1, padding: 1 })], 1), training);
    out = T.add(out, T.sum(T.mul(T.reshape(pools, [B, 2, m, 1, C, H, W]), mix.pools), 1));
    return T.add(out, T.mul(T.reshape(x, [B, m, 1, C, H, W]), mix.skip));
  }

  /**
   * The same function, op by op: edge t of arrow a, each op with its own
   * convolutions and BN statistics, weighted by alphaHat (Eq. 2).
   * x: (B, C, H, W), that arrow's input; returns (B, C, H, W).
   */
  forwardPlainEdge(x: T.Tensor, alphaRow: T.Tensor, t: number, a: number, training: boolean): T.Tensor {
    const { edges: E, channels: C, m } = this;
    const w = (k: keyof typeof PRIMITIVE_INDEX) => T.select(alphaRow, 0, PRIMITIVE_INDEX[k]);
    const rows = (p: T.Tensor, op: number) => T.narrow(p, 0, (op * E + t) * C, C);
    const sep = (op: number) => {
      let y = DW(T.relu(x), rows(this.dw1[op], 0));
      y = T.conv2d(y, rows(this.pw1, op));
      y = T.relu(this.sepBn1.forward(y, training, null, ((a * 2 + op) * E + t) * C, C));
      y = T.conv2d(DW(y, rows(this.dw2[op], 0)), rows(this.pw2, op));
      return this.convBn.forward(y, training, null, ((a * 4 + op) * E + t) * C, C);
    };
    const atr = (k: number) => {
      const y = T.conv2d(T.relu(x), rows(this.atr[k], 0), { padding: 2 * (k + 1), dilation: 2 });
      return this.convBn.forward(y, training, null, ((a * 4 + 2 + k) * E + t) * C, C);
    };
    const pool = (p: number, y: T.Tensor) => this.poolBn.forward(y, training, null, (p * m + a) * C, C);
    const terms = [
      T.mul(sep(0), w('sep3x3')),
      T.mul(sep(1), w('sep5x5')),
      T.mul(atr(0), w('atrous3x3')),
      T.mul(atr(1), w('atrous5x5')),
      T.mul(pool(0, T.avgPool2d(x, 3, { stride: 1, padding: 1 })), w('avgpool3x3')),
      T.mul(pool(1, T.maxPool2d(x, 3, { stride: 1, padding: 1 })), w('maxpool3x3')),
      T.mul(x, w('skip')),
      // zero contributes nothing; its alpha only enters the softmax.
    ];
    return terms.reduce((s, v) => T.add(s, v));
  }
}

/** The node's cell: B blocks over prevPrev, prev and earlier blocks. */
export class MixedCell {
  readonly sources: SourceOps[];

  constructor(store: ParameterStore, name: string, readonly blocks: number, readonly channels: number,
    readonly arrows: number, bn: BNConfig) {
    this.sources = [];
    for (let j = 0; j < blocks + 1; j++) {
      if (targetsOf(j, blocks).length === 0) continue;
      this.sources.push(new SourceOps(store, `${name}.src${j}`, j, blocks, channels, j === 0 ? 1 : arrows, bn));
    }
  }

  /**
   * prev: (B, A*C, H, W), one slice per incoming arrow; prevPrev: (B, C, H, W),
   * shared by the arrows. Returns the blocks of each arrow's cell: (B, A, blocks, C, H, W).
   */
  forward(prev: T.Tensor, prevPrev: T.Tensor, mixer: ArchMixer, training: boolean): T.Tensor {
    const [B, , H, W] = prev.shape;
    const A = this.arrows;
    const C = this.channels;
    const outs: T.Tensor[] = [this.sources[0].forward(prevPrev, mixer, training), this.sources[1].forward(prev, mixer, training)];
    const blocks: T.Tensor[] = [];
    for (let i = 0; i < this.blocks; i++) {
      // Eq. 1: block i sums the edges from every earlier state (broadcast over arrows for prevPrev).
      let s: T.Tensor | null = null;
      for (let j = 0; j < i + 2; j++) {
        const part = T.select(outs[j], 2, i - (j < 2 ? 0 : j - 1));
        s = s ? T.add(s, part) : part;
      }
      blocks.push(s!);
      if (i < this.blocks - 1) outs.push(this.sources[i + 2].forward(T.reshape(s!, [B, A * C, H, W]), mixer, training));
    }
    return T.stack(blocks, 2);
  }

  /** The same cell, arrow by arrow, edge by edge, op by op. */
  forwardPlain(prev: T.Tensor, prevPrev: T.Tensor, alphaHat: T.Tensor, edgeIndexOf: (block: number, input: number) => number,
    training: boolean): T.Tensor {
    const C = this.channels;
    const perArrow: T.Tensor[] = [];
    for (let a = 0; a < this.arrows; a++) {
      const states = [prevPrev, T.narrow(prev, 1, a * C, C)];
      const blocks: T.Tensor[] = [];
      for (let i = 0; i < this.blocks; i++) {
        let s: T.Tensor | null = null;
        for (let j = 0; j < i + 2; j++) {
          const src = this.sources[j];
          const t = i - (j < 2 ? 0 : j - 1);
          const row = T.select(alphaHat, 0, edgeIndexOf(i, j));
          const v = src.forwardPlainEdge(states[j], row, t, j === 0 ? 0 : a, training);
          s = s ? T.add(s, v) : v;
        }
        blocks.push(s!);
        states.push(s!);
      }
      perArrow.push(T.stack(blocks, 1));
    }
    return T.stack(perArrow, 1);
  }
}
