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
      training, momentum: bnMomentum(this.cfg), eps: this.cfg.eps,
    });
  }
}

/** Depthwise-separable conv of every edge at once: two [ReLU, dw kxk, pw 1x1, BN] layers. */
class SepStack {
  private readonly dw1: T.Tensor; // (E*C, 1, k, k)
  private readonly pw1: T.Tensor; // (E*C, C, 1, 1), group e = edge e
  private readonly dw2: T.Tensor;
  private readonly pw2: T.Tensor;
  readonly bn1: SearchBN;
  readonly bn2: SearchBN;

  constructor(store: ParameterStore, name: string, readonly kernel: number, readonly edges: number,
    readonly channels: number, m: number, bn: BNConfig) {
    const E = edges;
    const C = channels;
    const u = (bound: number) => (shape: number[]) => T.uniform(shape, -bound, bound);
    this.dw1 = store.param(`${name}.dw1`, [E * C, 1, kernel, kernel], u(1 / kernel));
    this.pw1 = store.param(`${name}.pw1`, [E * C, C, 1, 1], u(1 / Math.sqrt(C)));
    this.dw2 = store.param(`${name}.dw2`, [E * C, 1, kernel, kernel], u(1 / kernel));
    this.pw2 = store.param(`${name}.pw2`, [E * C, C, 1, 1], u(1 / Math.sqrt(C)));
    this.bn1 = new SearchBN(store, `${name}.bn1`, m * E * C, bn);
    this.bn2 = new SearchBN(store, `${name}.bn2`, m * E * C, bn);
  }

  /**
   * xr: (B*m, E*C, H, W), the ReLU'd input copied once per edge. Convolutions
   * see arrows as batch; batch norms see them as channels (per-arrow
   * statistics). Returns BN2(...) scaled by bnWeight: (B, m*E*C, H, W).
   */
  forward(xr: T.Tensor, B: number, m: number, bnWeight: T.Tensor, training: boolean): T.Tensor {
    const { edges: E, channels: C, kernel: k } = this;
    const [, , H, W] = xr.shape;
    const asChannels = (t: T.Tensor) => T.reshape(t, [B, m * E * C, H, W]);
    const asBatch = (t: T.Tensor) => T.reshape(t, [B * m, E * C, H, W]);
    let y = T.conv2d(xr, this.dw1, { padding: (k - 1) / 2, groups: E * C });
    y = T.conv2d(y, this.pw1, { groups: E });
    y = asBatch(T.relu(this.bn1.forward(asChannels(y), training)));
    y = T.conv2d(y, this.dw2, { padding: (k - 1) / 2, groups: E * C });
    y = T.conv2d(y, this.pw2, { groups: E });
    return this.bn2.forward(asChannels(y), training, bnWeight);
  }

  /** Edge t alone on one arrow's input x (B, C, H, W), BN statistics of arrow a. */
  forwardEdge(x: T.Tensor, t: number, a: number, training: boolean): T.Tensor {
    const { edges: E, channels: C, kernel: k } = this;
    const slice = (p: T.Tensor) => T.narrow(p, 0, t * C, C);
    const at = (a * E + t) * C;
    let y = T.conv2d(T.relu(x), slice(this.dw1), { padding: (k - 1) / 2, groups: C });
    y = T.conv2d(y, slice(this.pw1));
    y = T.relu(this.bn1.forward(y, training, null, at, C));
    y = T.conv2d(y, slice(this.dw2), { padding: (k - 1) / 2, groups: C });
    y = T.conv2d(y, slice(this.pw2));
    return this.bn2.forward(y, training, null, at, C);
  }
}

/** Atrous (rate 2) regular kxk convolution of every edge at once, then BN. */
class AtrousConv {
  private readonly weight: T.Tensor; // (E*C, C, k, k)
  readonly bn: SearchBN;
  constructor(store: ParameterStore, name: string, readonly kernel: number, readonly edges: number,
    readonly channels: number, m: number, bn: BNConfig) {
    const C = channels;
    const bound = 1 / Math.sqrt(C * kernel * kernel);
    this.weight = store.param(`${name}.conv`, [edges * C, C, kernel, kernel], (s) => T.uniform(s, -bound, bound));
    this.bn = new SearchBN(store, `${name}.bn`, m * edges * C, bn);
  }
  /** r: (B*m, C, H, W) ReLU'd input -> (B, m*E*C, H, W) scaled by bnWeight. */
  forward(r: T.Tensor, B: number, m: number, bnWeight: T.Tensor, training: boolean): T.Tensor {
    const [, , H, W] = r.shape;
    const y = T.conv2d(r, this.weight, { padding: this.kernel - 1, dilation: 2 });
    return this.bn.forward(T.reshape(y, [B, m * this.edges * this.channels, H, W]), training, bnWeight);
  }
  forwardEdge(x: T.Tensor, t: number, a: number, training: boolean): T.Tensor {
    const C = this.channels;
    const y = T.conv2d(T.relu(x), T.narrow(this.weight, 0, t * C, C), { padding: this.kernel - 1, dilation: 2 });
    return this.bn.forward(y, training, null, (a * this.edges + t) * C, C);
  }
}

/** All ops on the edges that leave one hidden state. */
export class SourceOps {
  readonly edges: number;
  private readonly sep3: SepStack;
  private readonly sep5: SepStack;
  private readonly atr3: AtrousConv;
  private readonly atr5: AtrousConv;
  private readonly avgBn: SearchBN;
  private readonly maxBn: SearchBN;

  /** m: how many arrows this state carries (1 for prevPrev, which all arrows share). */
  constructor(store: ParameterStore, name: string, readonly source: number, blocks: number,
    readonly channels: number, readonly m: number, bn: BNConfig) {
    const E = (this.edges = targetsOf(source, blocks).length);
    const C = channels;
    this.sep3 = new SepStack(store, `${name}.sep3x3`, 3, E, C, m, bn);
    this.sep5 = new SepStack(store, `${name}.sep5x5`, 5, E, C, m, bn);
    this.atr3 = new AtrousConv(store, `${name}.atrous3x3`, 3, E, C, m, bn);
    this.atr5 = new AtrousConv(store, `${name}.atrous5x5`, 5, E, C, m, bn);
    this.avgBn = new SearchBN(store, `${name}.avgpool.bn`, m * C, bn);
    this.maxBn = new SearchBN(store, `${name}.maxpool.bn`, m * C, bn);
  }

  /**
   * x: (B, m*C, H, W), arrow-major. Returns the mixed output of every edge,
   * (B, m, E, C, H, W): out[:, a, e] = sum_k alphaHat[edge e][k] * op_k(x_a).
   * alpha scales each op's last BN (alpha * BN(y) = BN(y; weight = alpha)).
   */
  forward(x: T.Tensor, mixer: ArchMixer, training: boolean): T.Tensor {
    const { m, edges: E, channels: C } = this;
    const [B, , H, W] = x.shape;
    const mix = mixer.mix(this.source, m, C);
    const r = T.reshape(T.relu(x), [B * m, C, H, W]); // arrows as batch for the convolutions
    const xr = E === 1 ? r : T.reshape(T.expand(T.reshape(r, [B * m, 1, C, H, W]), [B * m, E, C, H, W]), [B * m, E * C, H, W]);
    const per = [B, m, E, C, H, W];
    const terms = [
      this.sep3.forward(xr, B, m, mix.sep3, training),
      this.sep5.forward(xr, B, m, mix.sep5, training),
      this.atr3.forward(r, B, m, mix.atr3, training),
      this.atr5.forward(r, B, m, mix.atr5, training),
    ].map((t) => T.reshape(t, per));
    let out = T.add(T.add(terms[0], terms[1]), T.add(terms[2], terms[3]));
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
    const C = this.channels;
    const w = (k: keyof typeof PRIMITIVE_INDEX) => T.select(alphaRow, 0, PRIMITIVE_INDEX[k]);
    const terms = [
      T.mul(this.sep3.forwardEdge(x, t, a, training), w('sep3x3')),
      T.mul(this.sep5.forwardEdge(x, t, a, training), w('sep5x5')),
      T.mul(this.atr3.forwardEdge(x, t, a, training), w('atrous3x3')),
      T.mul(this.atr5.forwardEdge(x, t, a, training), w('atrous5x5')),
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
