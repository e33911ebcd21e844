/**
 * The Auto-DeepLab supernet (Sec. 4.1, Fig. 1): a two-layer stride-2 stem,
 * then L layers of nodes over output strides 4..32, each node a weighted sum
 * of the cells on its incoming arrows (Eq. 6), ASPP heads at every level of
 * the last layer, upsampled to the input and summed.
 *
 * Architecture parameters live apart from weights: `alpha` (numEdges, 8) is
 * shared by every cell; `beta` (L, levels, 3) holds one logit per arrow
 * leaving each node (trellis.ts). `weights.parameters()` are the network
 * weights w; `archParameters()` are alpha and beta.
 */
import * as T from '../engine';
import { BatchNorm, BNConfig, ReLUConvBN, SEARCH_BN, withFrozenRunningStats } from '../nn/layers';
import { heInit, ParameterStore } from '../nn/params';
import { blockChannels, levelSizes } from '../arch/space';
import { SearchSpaceConfig } from './config';
import { decodeCell, viterbiDecode } from './decode';
import { edgeIndex, numEdges } from '../arch/topology';
import { Genotype, Level } from '../arch/genotype';
import { SearchASPP } from './heads';
import { MixedCell } from './cell';
import { ArchMixer, MixKey, sourceEdgeRows } from './mixing';
import { PRIMITIVES } from '../arch/primitives';
import { Arrow, NetworkTrellis } from '../arch/trellis';

const STEM_MID = 64;

/** Incoming-arrow preprocessing (Sec. 5.1): s/2 -> s stride-2 conv, s -> s 1x1, 2s -> s upsample + 1x1. */
class ArrowPre {
  private readonly conv: ReLUConvBN;
  constructor(store: ParameterStore, name: string, cin: number, cout: number, readonly arrow: Arrow, bn: BNConfig) {
    const down = arrow.dir === 1;
    this.conv = new ReLUConvBN(store, name, cin, cout, { kernel: down ? 3 : 1, stride: down ? 2 : 1, bn, affine: false });
  }
  forward(x: T.Tensor, size: number, training: boolean): T.Tensor {
    const input = this.arrow.dir === -1 ? T.resizeBilinear(x, [size, size], true) : x;
    return this.conv.forward(input, training);
  }
}

class TrellisNode {
  readonly pre: ArrowPre[];
  readonly prevPrevPre: ReLUConvBN;
  readonly cell: MixedCell;
  /** Row indices into beta.flatten() of this node's incoming arrows, in `arrows` order. */
  readonly betaRows: T.Tensor;

  constructor(store: ParameterStore, readonly layer: number, readonly level: number, readonly arrows: Arrow[],
    inChannels: (arrow: Arrow) => number, prevPrevChannels: number, cfg: SearchSpaceConfig, levels: number, bn: BNConfig) {
    const C = blockChannels(cfg.filterMultiplier, level);
    const name = `layer${layer}.level${level}`;
    this.pre = arrows.map((a) => new ArrowPre(store, `${name}.pre_from${a.from}`, inChannels(a), C, a, bn));
    this.prevPrevPre = new ReLUConvBN(store, `${name}.pre_prevprev`, prevPrevChannels, C, { kernel: 1, bn, affine: false });
    this.cell = new MixedCell(store, `${name}.cell`, cfg.blocks, C, arrows.length, bn);
    const rows = arrows.map((a) => (layer * levels + a.from) * 3 + (a.dir + 1));
    this.betaRows = T.tensor(rows, [rows.length], { dtype: 'int64' }).keep();
  }
}

export type CellImpl = 'batched' | 'plain';

interface ForwardContext {
  sizes: number[];
  alphaHat: T.Tensor;
  betaFlat: T.Tensor;
  impl: CellImpl;
  mixer: ArchMixer | null;
}

export class Supernet {
  readonly weights = new ParameterStore();
  readonly trellis: NetworkTrellis;
  readonly alpha: T.Tensor;
  readonly beta: T.Tensor;
  private readonly betaMask: T.Tensor;
  private readonly edgeRows: T.Tensor[];
  private readonly stem0: T.Tensor;
  private readonly stem0Bn: BatchNorm;
  private readonly stem1: T.Tensor;
  private readonly stem1Bn: BatchNorm;
  private readonly nodes: TrellisNode[][];
  private readonly headModules: SearchASPP[];
  /** Every (source, arrows, width) the cells use: what ArchMixer prepares per forward pass. */
  private readonly mixKeys: MixKey[];

  constructor(readonly cfg: SearchSpaceConfig, archInitScale = 1e-3, readonly bn: BNConfig = SEARCH_BN) {
    const w = this.weights;
    const trellis = (this.trellis = new NetworkTrellis(cfg.layers, cfg.levels));
    // Sec. 5.1: alpha, beta before softmax ~ N(0, 1) * 1e-3.
    this.alpha = T.mul(T.randn([numEdges(cfg.blocks), PRIMITIVES.length]), archInitScale).keep().setRequiresGrad(true);
    this.beta = T.mul(T.randn([cfg.layers, cfg.levels, 3]), archInitScale).keep().setRequiresGrad(true);
    this.betaMask = T.tensor(trellis.betaMask(), [cfg.layers, cfg.levels, 3]).keep();
    this.edgeRows = sourceEdgeRows(cfg.blocks);
    this.stem0 = w.param('stem.conv0.weight', [STEM_MID, 3, 3, 3], heInit(27));
    this.stem0Bn = new BatchNorm(w, 'stem.bn0', STEM_MID, bn, true);
    this.stem1 = w.param('stem.conv1.weight', [cfg.stemChannels, STEM_MID, 3, 3], heInit(9 * STEM_MID));
    this.stem1Bn = new BatchNorm(w, 'stem.bn1', cfg.stemChannels, bn, true);
    const nodeChannels = (l: number, k: number) => (l < 0 ? cfg.stemChannels : cfg.blocks * blockChannels(cfg.filterMultiplier, k));
    this.nodes = [];
    for (let l = 0; l < cfg.layers; l++) {
      this.nodes.push(trellis.levelsAt(l).map((k) => new TrellisNode(w, l, k, trellis.arrowsInto(l, k),
        (a) => nodeChannels(l - 1, a.from), nodeChannels(...this.prevPrevOf(l, k)), cfg, cfg.levels, bn)));
    }
    const keys = new Map<string, MixKey>();
    for (const row of this.nodes) for (const n of row) for (const src of n.cell.sources) {
      keys.set(`${src.source}:${src.m}:${src.channels}`, { source: src.source, m: src.m, channels: src.channels });
    }
    this.mixKeys = [...keys.values()];
    const last = cfg.layers - 1;
    this.headModules = trellis.levelsAt(last).map((k) =>
      new SearchASPP(w, `head.level${k}`, nodeChannels(last, k), 4 * 2 ** k, cfg.numClasses, bn));
  }

  /** The state a node reads as H^{l-2}: the same level two layers back, else the nearest coarser-available one, else the stem. */
  private prevPrevOf(l: number, k: number): [number, number] {
    if (l < 2) return [-1, 0];
    return [l - 2, Math.min(k, ...this.trellis.levelsAt(l - 2).slice(-1))];
  }

  /** Indices into weights.parameters() of each part that lossAndGradRecompute reports ('stem.', 'layerN.', 'head.'). */
  partIndices(part: string): number[] {
    return this.weights.namedParameters().flatMap(([name], i) => (name.startsWith(part) ? [i] : []));
  }

  archParameters(): T.Tensor[] {
    return [this.alpha, this.beta];
  }

  /** softmax(alpha) per edge (Eq. 3-4) and softmax(beta) per node over its outgoing arrows (Eq. 7-8). */
  normalized(): { alphaHat: T.Tensor; betaHat: T.Tensor } {
    return { alphaHat: T.softmax(this.alpha, -1), betaHat: this.trellis.normalizeBetas(this.beta, this.betaMask) };
  }

  /** Per-forward context: normalised architecture weights and level sizes. */
  private context(H: number, impl: CellImpl): ForwardContext {
    const { alphaHat, betaHat } = this.normalized();
    return {
      sizes: levelSizes(H, this.cfg.levels), alphaHat, betaFlat: T.reshape(betaHat, [-1]), impl,
      mixer: impl === 'batched' ? new ArchMixer(alphaHat, this.edgeRows, this.mixKeys) : null,
    };
  }

  private stem(images: T.Tensor, training: boolean): T.Tensor {
    const h = T.relu(this.stem0Bn.forward(T.conv2d(images, this.stem0, { stride: 2, padding: 1 }), training));
    return this.stem1Bn.forward(T.conv2d(h, this.stem1, { stride: 2, padding: 1 }), training);
  }

  /** Layer l from states[l] (its H^{l-1}) and states[l - 1] (H^{l-2}); states[0] is the stem. */
  private layer(l: number, states: Map<number, T.Tensor>[], ctx: ForwardContext, training: boolean): Map<number, T.Tensor> {
    const prev = states[l];
    const cur = new Map<number, T.Tensor>();
    for (const node of this.nodes[l]) {
      // A scope per node: intermediates that autograd does not keep (it holds its own
      // references to what backward needs) are freed now, not at the end of the step.
      cur.set(node.level, T.tidy(() => this.node(node, prev, states, ctx, training)));
    }
    return cur;
  }

  private node(node: TrellisNode, prev: Map<number, T.Tensor>, states: Map<number, T.Tensor>[], ctx: ForwardContext,
    training: boolean): T.Tensor {
    const size = ctx.sizes[node.level];
    const inputs = node.pre.map((p) => p.forward(prev.get(p.arrow.from)!, size, training));
    const [pl, pk] = this.prevPrevOf(node.layer, node.level);
    let pp = states[pl + 1].get(pk)!;
    if (pp.shape[2] !== size) pp = T.resizeBilinear(pp, [size, size], false);
    const prevPrev = node.prevPrevPre.forward(pp, training);
    const prevAll = inputs.length === 1 ? inputs[0] : T.cat(inputs, 1);
    const blocks = ctx.impl === 'batched'
      ? node.cell.forward(prevAll, prevPrev, ctx.mixer!, training)
      : node.cell.forwardPlain(prevAll, prevPrev, ctx.alphaHat, edgeIndex, training); // (B, A, blocks, C, h, w)
    // Eq. 6: sum over incoming arrows, each weighted by its own normalised beta.
    const beta = T.reshape(T.indexSelect(ctx.betaFlat, 0, node.betaRows), [1, node.arrows.length, 1, 1, 1, 1]);
    const [B, , nb, C] = blocks.shape;
    return T.reshape(T.sum(T.mul(blocks, beta), 1), [B, nb * C, size, size]);
  }

  /** ASPP at every level of the last layer, upsampled to H x W and summed. */
  private heads(last: Map<number, T.Tensor>, H: number, W: number, training: boolean): T.Tensor {
    let logits: T.Tensor | null = null;
    this.headModules.forEach((head, k) => {
      const up = T.resizeBilinear(head.forward(last.get(k)!, training), [H, W], false);
      logits = logits ? T.add(logits, up) : up;
    });
    return logits!;
  }

  private checkInput(images: T.Tensor): [number, number] {
    const [, , H, W] = images.shape;
    if (H !== W) throw new Error(`Supernet: expects square crops, got ${H}x${W}`);
    return [H, W];
  }

  /** images (B, 3, H, W) -> logits (B, classes, H, W). Call inside a scope. */
  forward(images: T.Tensor, training: boolean, impl: CellImpl = 'batched'): T.Tensor {
    const [H, W] = this.checkInput(images);
    const ctx = this.context(H, impl);
    const states: Map<number, T.Tensor>[] = [new Map([[0, this.stem(images, training)]])];
    for (let l = 0; l < this.cfg.layers; l++) states.push(this.layer(l, states, ctx, training));
    return this.heads(states[states.length - 1], H, W, training);
  }

  /**
   * Training loss and its gradients with activations recomputed layer by
   * layer (gradient checkpointing): a first pass without a graph keeps only
   * each node's output; then, from the heads back to the stem, each layer is
   * run again with a graph and back-propagated at once. Peak memory holds one
   * layer's activations instead of all of them, for one more forward pass.
   * Gradients accumulate into .grad of whatever requires grad (weights for
   * a weight step, alpha and beta for an architecture step); batch-norm
   * running statistics are counted once. onSegment(part) is called when the
   * gradients of the weights named part* are complete (parts go from the
   * heads to the stem), so that a caller may update and free them at once.
   * Returns the loss.
   */
  lossAndGradRecompute(images: T.Tensor, loss: (logits: T.Tensor) => T.Tensor, onSegment?: (part: string) => void): number {
    const [H, W] = this.checkInput(images);
    const L = this.cfg.layers;
    // 1. Forward without a graph: node outputs only.
    const states: Map<number, T.Tensor>[] = T.noGrad(() => T.tidy(() => {
      const ctx = this.context(H, 'batched');
      const s: Map<number, T.Tensor>[] = [new Map([[0, this.stem(images, true)]])];
      for (let l = 0; l < L; l++) s.push(this.layer(l, s, ctx, true));
      return s;
    }));
    const grads: Map<number, T.Tensor>[] = states.map(() => new Map());
    const addGrad = (i: number, k: number, g: T.Tensor | null) => {
      if (!g) return;
      const old = grads[i].get(k);
      grads[i].set(k, old ? T.add(old, g) : g);
      old?.dispose();
    };
    /** Leaf copies of the states a segment reads, to collect their gradients. */
    const leavesOf = (indices: number[]) => indices.map((i) => new Map([...states[i]].map(([k, t]) => [k, T.detach(t).setRequiresGrad(true)])));
    let value = 0;
    // 2. Heads: the loss, d loss / d (last layer's states).
    T.tidy(() => {
      const [last] = leavesOf([L]);
      const l = loss(this.heads(last, H, W, true));
      value = l.item();
      T.backward(l);
      for (const [k, t] of last) addGrad(L, k, t.grad);
      return [...grads[L].values()];
    });
    onSegment?.('head.');
    // 3. Layers, last to first, each recomputed with a graph and back-propagated.
    for (let l = L - 1; l >= 0; l--) {
      T.tidy(() => {
        const reads = l === 0 ? [0] : [l - 1, l];
        const leaves = leavesOf(reads);
        const local: Map<number, T.Tensor>[] = [];
        reads.forEach((i, j) => (local[i] = leaves[j]));
        const out = withFrozenRunningStats(() => this.layer(l, local, this.context(H, 'batched'), true));
        const ks = [...out.keys()].filter((k) => grads[l + 1].has(k) && out.get(k)!.requiresGrad);
        if (ks.length) T.backward(ks.map((k) => out.get(k)!), { grads: ks.map((k) => grads[l + 1].get(k)!) });
        reads.forEach((i, j) => leaves[j].forEach((t, k) => addGrad(i, k, t.grad)));
        grads[l + 1].forEach((g) => g.dispose());
        grads[l + 1].clear();
        return reads.map((i) => [...grads[i].values()]);
      });
      onSegment?.(`layer${l}.`);
    }
    // 4. The stem.
    T.tidy(() => {
      const g = grads[0].get(0);
      if (!g) return;
      const stem = withFrozenRunningStats(() => this.stem(images, true));
      if (stem.requiresGrad) T.backward(stem, { grads: [g] }); // not in an architecture step: nothing before the cells depends on alpha, beta
    });
    onSegment?.('stem.');
    T.dispose([grads.map((m) => [...m.values()]), states.map((m) => [...m.values()])]);
    return value;
  }

  /** The architecture the current alpha and beta decode to (Sec. 4.3). */
  genotype(): Genotype {
    const { alphaHat, betaHat } = T.noGrad(() => T.tidy(() => {
      const n = this.normalized();
      return { alphaHat: n.alphaHat.toArray(), betaHat: n.betaHat.toArray() };
    }));
    const { cfg } = this;
    const alphaRows = Array.from({ length: numEdges(cfg.blocks) }, (_, e) => alphaHat.slice(e * 8, e * 8 + 8));
    const betaRows = Array.from({ length: cfg.layers }, (_, l) =>
      Array.from({ length: cfg.levels }, (_, k) => betaHat.slice((l * cfg.levels + k) * 3, (l * cfg.levels + k) * 3 + 3)));
    return {
      version: 1,
      cell: decodeCell(alphaRows, cfg.blocks),
      path: viterbiDecode(betaRows, this.trellis).path as Level[],
    };
  }

  dispose(): void {
    this.weights.dispose();
    T.dispose([this.alpha, this.beta, this.betaMask, this.edgeRows, this.nodes.map((r) => r.map((n) => n.betaRows))]);
  }
}
