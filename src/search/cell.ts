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
 * would. All edges leaving one hidden state are computed together: one
 * grouped convolution per layer for the sep ops of every edge (3x3 kernels are
 * 5x5 kernels with a fixed zero border), one per atrous size, one pool each
 * shared by the edges. `forwardPlain` computes the same function op by op;
 * test/search/cell_equivalence.test.ts proves they agree on shared weights.
 */
import * as T from '../engine';
import { BNConfig } from '../nn/layers';
import { ParameterStore } from '../nn/params';
import { ArchMixer, targetsOf } from './mixing';
import { PRIMITIVE_INDEX } from './primitives';

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
      training, momentum: this.cfg.momentum, eps: this.cfg.eps,
    });
  }
}

const masks = new Map<string, T.Tensor>();

/** Zero border for 3x3 kernels stored as 5x5: (E*2*C, 1, 5, 5), op 0 = 3x3, op 1 = 5x5. Shared, kept. */
function kernelMask(edges: number, channels: number): T.Tensor {
  const key = `${edges}:${channels}`;
  const cached = masks.get(key);
  if (cached && !cached.isDisposed) return cached;
  const m = new Float32Array(edges * 2 * channels * 25);
  for (let e = 0; e < edges; e++) for (let op = 0; op < 2; op++) for (let c = 0; c < channels; c++) {
    const base = ((e * 2 + op) * channels + c) * 25;
    for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) {
      m[base + y * 5 + x] = op === 1 || (y >= 1 && y <= 3 && x >= 1 && x <= 3) ? 1 : 0;
    }
  }
  const t = T.tensor(m, [edges * 2 * channels, 1, 5, 5]).keep();
  masks.set(key, t);
  return t;
}

/** All ops on the edges that leave one hidden state. */
export class SourceOps {
  readonly edges: number;
  private readonly mask: T.Tensor;
  private readonly dw1: T.Tensor; // (E*2*C, 1, 5, 5) depthwise, sep layer 1
  private readonly pw1: T.Tensor; // (E*2*C, C, 1, 1) pointwise, sep layer 1
  private readonly dw2: T.Tensor;
  private readonly pw2: T.Tensor;
  private readonly atr3: T.Tensor; // (E*C, C, 3, 3) regular conv, rate 2
  private readonly atr5: T.Tensor; // (E*C, C, 5, 5)
  private readonly sepBn1: SearchBN;
  private readonly sepBn2: SearchBN;
  private readonly atr3Bn: SearchBN;
  private readonly atr5Bn: SearchBN;
  private readonly avgBn: SearchBN;
  private readonly maxBn: SearchBN;

  /** m: how many arrows this state carries (1 for prevPrev, which all arrows share). */
  constructor(store: ParameterStore, name: string, readonly source: number, blocks: number,
    readonly channels: number, readonly m: number, bn: BNConfig) {
    const E = (this.edges = targetsOf(source, blocks).length);
    const C = channels;
    this.mask = kernelMask(E, C);
    const dwInit = (shape: number[]) => T.mul(T.uniform(shape, -1 / 3, 1 / 3), this.mask); // fan-in 9 for 3x3, ~ for 5x5
    const u = (bound: number) => (shape: number[]) => T.uniform(shape, -bound, bound);
    this.dw1 = store.param(`${name}.sep.dw1`, [E * 2 * C, 1, 5, 5], dwInit);
    this.pw1 = store.param(`${name}.sep.pw1`, [E * 2 * C, C, 1, 1], u(1 / Math.sqrt(C)));
    this.dw2 = store.param(`${name}.sep.dw2`, [E * 2 * C, 1, 5, 5], dwInit);
    this.pw2 = store.param(`${name}.sep.pw2`, [E * 2 * C, C, 1, 1], u(1 / Math.sqrt(C)));
    this.atr3 = store.param(`${name}.atrous3x3`, [E * C, C, 3, 3], u(1 / Math.sqrt(9 * C)));
    this.atr5 = store.param(`${name}.atrous5x5`, [E * C, C, 5, 5], u(1 / Math.sqrt(25 * C)));
    this.sepBn1 = new SearchBN(store, `${name}.sep.bn1`, m * E * 2 * C, bn);
    this.sepBn2 = new SearchBN(store, `${name}.sep.bn2`, m * E * 2 * C, bn);
    this.atr3Bn = new SearchBN(store, `${name}.atrous3x3.bn`, m * E * C, bn);
    this.atr5Bn = new SearchBN(store, `${name}.atrous5x5.bn`, m * E * C, bn);
    this.avgBn = new SearchBN(store, `${name}.avgpool.bn`, m * C, bn);
    this.maxBn = new SearchBN(store, `${name}.maxpool.bn`, m * C, bn);
  }

  /** Weights repeated over the m arrows (shared weights, per-arrow groups). */
  private tiled(w: T.Tensor): T.Tensor {
    return this.m === 1 ? w : T.repeat(w, [this.m, 1, 1, 1]);
  }

  /**
   * x: (B, m*C, H, W), arrow-major. Returns the mixed output of every edge,
   * (B, m, E, C, H, W): out[:, a, e] = sum_k alphaHat[edge e][k] * op_k(x_a).
   */
  forward(x: T.Tensor, mixer: ArchMixer, training: boolean): T.Tensor {
    const { m, edges: E, channels: C } = this;
    const [B, , H, W] = x.shape;
    const mix = mixer.mix(this.source, m, C);
    const r = T.relu(x);
    // sep3x3 and sep5x5 of every edge: input copied once per (edge, op) group.
    const xr = T.reshape(T.expand(T.reshape(r, [B, m, 1, C, H, W]), [B, m, E * 2, C, H, W]), [B, m * E * 2 * C, H, W]);
    let y = T.conv2d(xr, this.tiled(T.mul(this.dw1, this.mask)), { padding: 2, groups: m * E * 2 * C });
    y = T.conv2d(y, this.tiled(this.pw1), { groups: m * E * 2 });
    y = T.relu(this.sepBn1.forward(y, training));
    y = T.conv2d(y, this.tiled(T.mul(this.dw2, this.mask)), { padding: 2, groups: m * E * 2 * C });
    y = T.conv2d(y, this.tiled(this.pw2), { groups: m * E * 2 });
    // alpha folded into the last BN's scale: alpha * BN(y) = BN(y; weight = alpha).
    y = this.sepBn2.forward(y, training, mix.sepBnWeight);
    let out = T.sum(T.reshape(y, [B, m, E, 2, C, H, W]), 3);
    // atrous 3x3 and 5x5, rate 2, regular convolutions: groups = arrows.
    const a3 = this.atr3Bn.forward(T.conv2d(r, this.tiled(this.atr3), { padding: 2, dilation: 2, groups: m }), training, mix.atr3BnWeight);
    const a5 = this.atr5Bn.forward(T.conv2d(r, this.tiled(this.atr5), { padding: 4, dilation: 2, groups: m }), training, mix.atr5BnWeight);
    const per = [B, m, E, C, H, W];
    out = T.add(out, T.add(T.reshape(a3, per), T.reshape(a5, per)));
    // Pools and skip: one result per state, weighted per edge.
    const one = [B, m, 1, C, H, W];
    const avg = this.avgBn.forward(T.avgPool2d(x, 3, { stride: 1, padding: 1 }), training);
    const max = this.maxBn.forward(T.maxPool2d(x, 3, { stride: 1, padding: 1 }), training);
    out = T.add(out, T.mul(T.reshape(avg, one), mix.avg));
    out = T.add(out, T.mul(T.reshape(max, one), mix.max));
    return T.add(out, T.mul(T.reshape(x, one), mix.skip));
  }

  /**
   * The same function, op by op: edge t of arrow a, each op with its own
   * convolutions and BN statistics, weighted by alphaHat (Eq. 2).
   * Returns (B, C, H, W) for edge t and arrow a.
   */
  forwardPlainEdge(x: T.Tensor, alphaRow: T.Tensor, t: number, a: number, training: boolean): T.Tensor {
    const { edges: E, channels: C } = this;
    const w = (k: keyof typeof PRIMITIVE_INDEX) => T.select(alphaRow, 0, PRIMITIVE_INDEX[k]);
    const slice = (p: T.Tensor, op: number) => T.narrow(p, 0, (t * 2 + op) * C, C);
    const center = (k: T.Tensor) => T.narrow(T.narrow(k, 2, 1, 3), 3, 1, 3);
    const sep = (op: number) => {
      const k = op === 0 ? 3 : 5;
      const dw = (p: T.Tensor) => (op === 0 ? center(slice(p, op)) : slice(p, op));
      const bnAt = ((a * E + t) * 2 + op) * C;
      let y = T.conv2d(T.relu(x), dw(this.dw1), { padding: (k - 1) / 2, groups: C });
      y = T.conv2d(y, slice(this.pw1, op));
      y = T.relu(this.sepBn1.forward(y, training, null, bnAt, C));
      y = T.conv2d(y, dw(this.dw2), { padding: (k - 1) / 2, groups: C });
      y = T.conv2d(y, slice(this.pw2, op));
      return this.sepBn2.forward(y, training, null, bnAt, C);
    };
    const atr = (weight: T.Tensor, k: number, bn: SearchBN) =>
      bn.forward(T.conv2d(T.relu(x), T.narrow(weight, 0, t * C, C), { padding: k - 1, dilation: 2 }), training, null, (a * E + t) * C, C);
    const terms = [
      T.mul(sep(0), w('sep3x3')),
      T.mul(sep(1), w('sep5x5')),
      T.mul(atr(this.atr3, 3, this.atr3Bn), w('atrous3x3')),
      T.mul(atr(this.atr5, 5, this.atr5Bn), w('atrous5x5')),
      T.mul(this.avgBn.forward(T.avgPool2d(x, 3, { stride: 1, padding: 1 }), training, null, a * C, C), w('avgpool3x3')),
      T.mul(this.maxBn.forward(T.maxPool2d(x, 3, { stride: 1, padding: 1 }), training, null, a * C, C), w('maxpool3x3')),
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
