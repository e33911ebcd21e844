/**
 * The Auto-DeepLab supernet (Sec. 4.1, Fig. 1): a two-layer stride-2 stem,
 * then L layers of nodes over output strides 4..32, each node a weighted sum
 * of the cells on its incoming arrows (Eq. 6), ASPP heads at every level of
 * the last layer, upsampled to the input and summed.
 *
 * Architecture parameters live apart from weights: `alpha` (numEdges,
 * |PRIMITIVES|) is shared by every cell (Sec. 4.1.2), or with alphaPerLayer
 * (L, numEdges, |PRIMITIVES|), one per layer (Sec. 6); `beta` (L, levels, 3)
 * holds one logit per arrow leaving each node (arch/trellis.ts).
 * `weights.parameters()` are the network weights w; `archParameters()` are
 * alpha and beta.
 *
 * H^{l-2} (the paper gives it for nodes whose level exists two layers back):
 * the stem counts as layer -1 with two outputs, level -1 (stride 2, 64
 * channels) and level 0 (stride 4), so layer 0 reads the stride-2 output
 * and layer 1 the stride-4 one, as Fig. 1 draws it and as the released model
 * (and model/network.ts) wires its first two cells. A node at a level that
 * layer l - 2 does not reach (level l + 1, the top of a growing trellis)
 * reads the coarsest node of layer l - 2, one level finer, downsampled
 * bilinearly to its size: the nearest state that exists.
 */
import * as T from '../engine';
import { PRIMITIVES } from '../arch/primitives';
import { blockChannels, levelSizes } from '../arch/space';
import { betaIndex, numEdges } from '../arch/topology';
import { Genotype, Level } from '../arch/genotype';
import { NetworkTrellis } from '../arch/trellis';
import { BatchNorm, BNConfig, SEARCH_BN } from '../nn/layers';
import { heInit, ParameterStore } from '../nn/params';
import { FusedCells } from './fused_cell';
import { CellFamily, Pass } from './cell_family';
import { SearchSpaceConfig } from './search_config';
import { decodeCell, decodeCells, viterbiDecode } from './decode';
import { SearchASPP } from './heads';
import { TrellisNode } from './nodes';
import { LayerContext, recomputedLossAndGrad, Segments } from './recompute';

const STEM_MID = 64;

export interface SupernetOptions {
  /** alpha, beta initialised as N(0, 1) * this (Sec. 5.1: 1e-3). */
  archInitScale?: number;
  /** Recompute activations layer by layer in the backward pass (less memory, one more forward). */
  recompute?: boolean;
  /** Which cells to build: the fused ones (default) or `reference/`'s op-by-op ones; untied: one weight set per arrow. */
  cells?: (blocks: number, untied: boolean) => CellFamily<unknown>;
  bn?: BNConfig;
}

export class Supernet {
  readonly weights = new ParameterStore();
  readonly trellis: NetworkTrellis;
  readonly alpha: T.Tensor;
  readonly beta: T.Tensor;
  /** Recompute activations in the backward pass; may change between steps (a run decides it once it knows its weight count). */
  recompute: boolean;
  readonly bn: BNConfig;
  readonly nodes: TrellisNode<unknown>[][];
  /** Indices into weights.parameters() of each recompute segment. */
  readonly segments: Segments;
  /** One cell family per alpha: one for the network, or one per layer with alphaPerLayer. */
  private readonly families: CellFamily<unknown>[];
  private readonly betaMask: T.Tensor;
  private readonly stemConvs: { w: T.Tensor; bn: BatchNorm }[];
  private readonly headModules: SearchASPP[];

  constructor(readonly cfg: SearchSpaceConfig, o: SupernetOptions = {}) {
    this.recompute = o.recompute ?? false;
    const bn = (this.bn = o.bn ?? SEARCH_BN);
    const w = this.weights;
    const trellis = (this.trellis = new NetworkTrellis(cfg.layers, cfg.levels));
    const initScale = o.archInitScale ?? 1e-3;
    // Sec. 5.1: alpha, beta before softmax ~ N(0, 1) * 1e-3.
    const init = (shape: number[]) => T.tidy(() => T.mul(T.randn(shape), initScale)).keep().setRequiresGrad(true);
    const alphaShape = [numEdges(cfg.blocks), PRIMITIVES.length];
    this.alpha = init(cfg.alphaPerLayer ? [cfg.layers, ...alphaShape] : alphaShape);
    this.beta = init([cfg.layers, cfg.levels, 3]);
    this.betaMask = T.tensor(trellis.betaMask(), [cfg.layers, cfg.levels, 3]).keep();
    const makeFamily = o.cells ?? ((b, untied) => new FusedCells(b, untied));
    const families = (this.families = Array.from({ length: cfg.alphaPerLayer ? cfg.layers : 1 }, () => makeFamily(cfg.blocks, !!cfg.untiedCells)));
    const stem = w.track(() => [[STEM_MID, 3], [cfg.stemChannels, STEM_MID]].map(([cout, cin], i) => ({
      w: w.param(`stem.conv${i}.weight`, [cout, cin, 3, 3], heInit(9 * cin)),
      bn: new BatchNorm(w, `stem.bn${i}`, cout, bn, true),
    })));
    this.stemConvs = stem.value;
    const nodeChannels = (l: number, k: number) =>
      (l >= 0 ? cfg.blocks * blockChannels(cfg.filterMultiplier, k) : k < 0 ? STEM_MID : cfg.stemChannels);
    const layers = Array.from({ length: cfg.layers }, (_, l) => w.track(() => trellis.levelsAt(l).map((k) => new TrellisNode(w, {
      layer: l, level: k, arrows: trellis.arrowsInto(l, k), inChannels: (a) => nodeChannels(l - 1, a.from),
      prevPrevChannels: nodeChannels(...this.prevPrevOf(l, k)), channels: blockChannels(cfg.filterMultiplier, k),
      blocks: cfg.blocks, levels: cfg.levels,
    }, families[cfg.alphaPerLayer ? l : 0], bn))));
    this.nodes = layers.map((t) => t.value);
    const last = cfg.layers - 1;
    const heads = w.track(() => trellis.levelsAt(last).map((k) =>
      new SearchASPP(w, `head.level${k}`, nodeChannels(last, k), 4 * 2 ** k, cfg.numClasses, bn)));
    this.headModules = heads.value;
    this.segments = { stem: stem.indices, layers: layers.map((t) => t.indices), head: heads.indices };
  }

  /**
   * The node (layer, level) that node (l, k) reads as H^{l-2}: the same level
   * two layers back; where layer l - 2 does not reach level k, its coarsest
   * node (the nearest existing level, finer than k). The stem is layer -1:
   * level -1 its stride-2 output (layer 0's H^{l-2}), level 0 its stride-4 one.
   */
  prevPrevOf(l: number, k: number): [number, number] {
    if (l === 0) return [-1, -1];
    if (l === 1) return [-1, 0];
    return [l - 2, Math.min(k, ...this.trellis.levelsAt(l - 2).slice(-1))];
  }

  archParameters(): T.Tensor[] {
    return [this.alpha, this.beta];
  }

  /** softmax(alpha) per edge (Eq. 3-4) and softmax(beta) per node over its outgoing arrows (Eq. 7-8). */
  normalized(): { alphaHat: T.Tensor; betaHat: T.Tensor } {
    return { alphaHat: T.softmax(this.alpha, -1), betaHat: this.trellis.normalizeBetas(this.beta, this.betaMask) };
  }

  /** Per-forward context: normalised architecture weights, the cells' view of them per layer, level sizes. */
  context(size: number, pass: Pass): LayerContext {
    const { alphaHat, betaHat } = this.normalized();
    const perLayer = this.cfg.alphaPerLayer;
    const mixes = this.families.map((f, l) => f.mix(perLayer ? T.select(alphaHat, 0, l) : alphaHat));
    const mix = Array.from({ length: this.cfg.layers }, (_, l) => mixes[perLayer ? l : 0]);
    return { sizes: levelSizes(size, this.cfg.levels), mix, betaFlat: T.reshape(betaHat, [-1]), pass };
  }

  /**
   * images (B, 3, H, W) -> the stem's states: level -1, the stride-2 output
   * (B, 64, H/2, W/2), and level 0, the stride-4 one (B, stemChannels, H/4, W/4).
   */
  stem(images: T.Tensor, pass: Pass): Map<number, T.Tensor> {
    const [a, b] = this.stemConvs;
    const h = T.relu(a.bn.forward(T.conv2d(images, a.w, { stride: 2, padding: 1 }), pass.training, pass.updateStats));
    return new Map([[-1, h], [0, b.bn.forward(T.conv2d(h, b.w, { stride: 2, padding: 1 }), pass.training, pass.updateStats)]]);
  }

  /** Layer l from states[l] (its H^{l-1}) and states[l - 1] (H^{l-2}); states[0] is the stem's. */
  layer(l: number, states: Map<number, T.Tensor>[], ctx: LayerContext): Map<number, T.Tensor> {
    const cur = new Map<number, T.Tensor>();
    for (const node of this.nodes[l]) {
      // A scope per node: intermediates that autograd does not keep (it holds its own
      // references to what backward needs) are freed now, not at the end of the step.
      cur.set(node.level, T.tidy(() => {
        const [pl, pk] = this.prevPrevOf(l, node.level);
        return node.forward(states[l], states[pl + 1].get(pk)!, ctx.sizes[node.level], ctx.mix[l], ctx.betaFlat, ctx.pass);
      }));
    }
    return cur;
  }

  /** ASPP at every level of the last layer, upsampled to H x W and summed. */
  heads(last: Map<number, T.Tensor>, H: number, W: number, pass: Pass): T.Tensor {
    let logits: T.Tensor | null = null;
    this.headModules.forEach((head, k) => {
      const up = T.resizeBilinear(head.forward(last.get(k)!, pass.training, pass.updateStats), [H, W], false);
      logits = logits ? T.add(logits, up) : up;
    });
    return logits!;
  }

  /** Square input side; the trellis assumes square crops. */
  inputSize(images: T.Tensor): number {
    const [, , H, W] = images.shape;
    if (H !== W) throw new Error(`Supernet: expects square crops, got ${H}x${W}`);
    return H;
  }

  /** images (B, 3, H, W) -> logits (B, classes, H, W). Call inside a scope. */
  forward(images: T.Tensor, training: boolean): T.Tensor {
    const H = this.inputSize(images);
    const pass = { training, updateStats: true };
    const ctx = this.context(H, pass);
    const states: Map<number, T.Tensor>[] = [this.stem(images, pass)];
    for (let l = 0; l < this.cfg.layers; l++) states.push(this.layer(l, states, ctx));
    return this.heads(states[states.length - 1], H, H, pass);
  }

  /**
   * Training loss; its gradients accumulate into .grad of whatever requires
   * grad. With recompute, onSegment(indices) is called as soon as the
   * gradients of those weights (indices into weights.parameters()) are
   * complete, from the heads back to the stem.
   */
  lossAndGrad(images: T.Tensor, loss: (logits: T.Tensor) => T.Tensor, onSegment?: (indices: number[]) => void): number {
    if (this.recompute) return recomputedLossAndGrad(this, images, loss, onSegment);
    const l = loss(this.forward(images, true));
    T.backward(l);
    return l.item();
  }

  /**
   * softmax(alpha) as rows per edge (with alphaPerLayer, [layer][edge]) and
   * softmax(beta) as [layer][source level][direction] (0 where no node).
   */
  snapshot(): { alpha: number[][] | number[][][]; beta: number[][][] } {
    const { cfg, trellis } = this;
    return T.noGrad(() => T.tidy(() => {
      const { alphaHat, betaHat } = this.normalized();
      const a = alphaHat.toArray();
      const b = betaHat.toArray();
      const n = PRIMITIVES.length;
      const E = numEdges(cfg.blocks);
      const rows = Array.from({ length: a.length / n }, (_, e) => a.slice(e * n, e * n + n));
      const alpha = cfg.alphaPerLayer ? Array.from({ length: cfg.layers }, (_, l) => rows.slice(l * E, l * E + E)) : rows;
      const beta = Array.from({ length: cfg.layers }, (_, l) => Array.from({ length: cfg.levels }, (_, k) => {
        const at = betaIndex(l, k, -1, cfg.levels); // the row of arrows leaving node (l - 1, k)
        return trellis.hasNode(l - 1, k) ? b.slice(at, at + 3) : [0, 0, 0];
      }));
      return { alpha, beta };
    }));
  }

  /** The architecture the current alpha and beta decode to (Sec. 4.3). */
  genotype(): Genotype {
    const { alpha, beta } = this.snapshot();
    const path = viterbiDecode(beta, this.trellis).path as Level[];
    return this.cfg.alphaPerLayer
      ? { version: 1, cells: decodeCells(alpha as number[][][], this.cfg.blocks), path }
      : { version: 1, cell: decodeCell(alpha as number[][], this.cfg.blocks), path };
  }

  dispose(): void {
    this.weights.dispose();
    this.families.forEach((f) => f.dispose());
    T.dispose([this.alpha, this.beta, this.betaMask]);
    this.nodes.forEach((r) => r.forEach((n) => n.dispose()));
  }
}
