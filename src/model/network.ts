/**
 * Auto-DeepLab for segmentation (Sec. 5.2): the three-conv stem, cells along
 * the network path, ASPP on the last cell and the DeepLabv3+ decoder with the
 * output-stride-4 features of the third cell. Built from a genotype (exactly
 * the file the search writes) or a preset (the released S / M / L).
 */
import * as T from '../engine';
import { BatchNorm, BNConfig, ConvBNReLU } from '../nn/layers';
import { convInit, ParameterStore, zerosInit } from '../nn/params';
import { cellOfLayer, Genotype } from '../arch/genotype';
import { validateGenotype } from '../arch/genotype_file';
import { GenotypeCell } from './cell';

export interface ModelConfig {
  genotype: Genotype;
  /** F: 20 / 32 / 48 for Auto-DeepLab-S / M / L. */
  filterMultiplier: number;
  numClasses: number;
  /** BN momentum (PyTorch convention) and eps. Released: 0.0003 (TF's 0.9997), 1e-3. */
  bn: BNConfig;
  /** Scheduled drop path: final keep probability of the last cell (1 turns it off). */
  dropPathKeep: number;
  /** Which cell's output feeds the decoder (released: the third, at output stride 4); -1: the stem's stride-4 output. */
  lowLevelCell: number;
}

/** Per-call options of the forward pass: training state is passed in, never kept in the model. */
export interface ForwardOptions {
  /**
   * Drop-path progress in [0, 1] (training step / total steps); only read when
   * training. Default 1: the full drop rate, as a model trained to the end.
   */
  dropPathProgress?: number;
}

/** What forwardFeatures hands to forwardHead (timm's forward_features / forward_head seam). */
export interface ModelFeatures {
  /** Last cell's output (B, C, H/s, W/s), s = 4 * 2^path[L-1]. */
  features: T.Tensor;
  /** The decoder's low-level input at output stride 4 (a cell's output or the stem's). */
  lowLevel: T.Tensor;
}

export const RELEASED_BN: BNConfig = Object.freeze({ momentum: 0.0003, eps: 1e-3 });

/**
 * ASPP's atrous rates for features at output stride 4 * 2^level: DeepLab's
 * 12/24/36 at output stride 8 (as released, whose path ends there), 6/12/18 at
 * 16, 3/6/9 at 32, 24/48/72 at 4 (the rates follow the stride, as the search's
 * 96/s, Sec. 5.1; the paper gives the retrained ones only for its own path).
 */
export function asppRates(level: number): number[] {
  const stride = 4 * 2 ** level;
  return [96, 192, 288].map((r) => r / stride);
}

/** ASPP: image pooling, 1x1, three 3x3 at `rates` (asppRates), 256 each; concat -> 1x1 256. */
export class ASPP {
  private readonly pool: ConvBNReLU;
  private readonly branches: ConvBNReLU[];
  private readonly project: ConvBNReLU;
  constructor(store: ParameterStore, cin: number, bn: BNConfig, readonly rates: number[], width = 256) {
    this.pool = new ConvBNReLU(store, 'aspp.image_pool', cin, width, { kernel: 1, bn });
    this.branches = [new ConvBNReLU(store, 'aspp.1x1', cin, width, { kernel: 1, bn }),
      ...rates.map((r) => new ConvBNReLU(store, `aspp.3x3_rate${r}`, cin, width, { kernel: 3, dilation: r, bn }))];
    this.project = new ConvBNReLU(store, 'aspp.project', width * (rates.length + 2), width, { kernel: 1, bn });
  }
  forward(x: T.Tensor, training: boolean): T.Tensor {
    const [, , h, w] = x.shape;
    const pooled = T.resizeBilinear(this.pool.forward(T.adaptiveAvgPool2d(x, 1), training), [h, w], true);
    return this.project.forward(T.cat([pooled, ...this.branches.map((b) => b.forward(x, training))], 1), training);
  }
}

/** DeepLabv3+ decoder: low-level 1x1 to 48, concat with upsampled ASPP, two 3x3 convs of 256, logits. */
export class Decoder {
  private readonly low: ConvBNReLU;
  private readonly convs: ConvBNReLU[];
  private readonly logits: T.Tensor;
  private readonly bias: T.Tensor;
  constructor(store: ParameterStore, lowChannels: number, classes: number, bn: BNConfig) {
    this.low = new ConvBNReLU(store, 'decoder.low_level', lowChannels, 48, { kernel: 1, bn });
    this.convs = [new ConvBNReLU(store, 'decoder.conv0', 256 + 48, 256, { kernel: 3, bn }), new ConvBNReLU(store, 'decoder.conv1', 256, 256, { kernel: 3, bn })];
    this.logits = store.param('decoder.logits.weight', [classes, 256, 1, 1], convInit(256));
    this.bias = store.param('decoder.logits.bias', [classes], zerosInit);
  }
  forward(aspp: T.Tensor, lowLevel: T.Tensor, training: boolean): T.Tensor {
    const [, , h, w] = lowLevel.shape;
    let y = T.cat([T.resizeBilinear(aspp, [h, w], true), this.low.forward(lowLevel, training)], 1);
    for (const c of this.convs) y = c.forward(y, training);
    return T.conv2d(y, this.logits, { bias: this.bias });
  }
}

export class AutoDeepLab {
  readonly weights = new ParameterStore();
  private readonly stem: { w: T.Tensor; bn: BatchNorm; stride: number; relu: boolean }[];
  private readonly cells: GenotypeCell[];
  private readonly aspp: ASPP;
  private readonly decoder: Decoder;

  constructor(readonly cfg: ModelConfig) {
    validateGenotype(cfg.genotype, 'model genotype');
    const s = this.weights;
    const F = cfg.filterMultiplier;
    const path = cfg.genotype.path;
    if (cfg.lowLevelCell >= path.length || (cfg.lowLevelCell >= 0 && path[cfg.lowLevelCell] !== 0)) {
      throw new Error(`model: the decoder's low-level cell ${cfg.lowLevelCell} must exist and be at output stride 4 (path ${JSON.stringify(path)})`);
    }
    // Stem (independent of F): 3->64 s2, 64->64 (h1 of the first cell), 64->128 s2 (its input).
    const stemConv = (i: number, cin: number, cout: number, stride: number, relu: boolean) => ({
      w: s.param(`stem.conv${i}.weight`, [cout, cin, 3, 3], convInit(cin * 9)), bn: new BatchNorm(s, `stem.bn${i}`, cout, cfg.bn, true), stride, relu,
    });
    this.stem = [stemConv(0, 3, 64, 2, false), stemConv(1, 64, 64, 1, true), stemConv(2, 64, 128, 2, true)];
    this.cells = [];
    let [c0, c1] = [128, 64];
    path.forEach((level, l) => {
      const prevLevel = l === 0 ? 0 : path[l - 1];
      const cell = new GenotypeCell(s, `cells.${l}`, cellOfLayer(cfg.genotype, l), c0, c1, F * 2 ** level, level > prevLevel ? 2 : 1, cfg.bn);
      this.cells.push(cell);
      [c0, c1] = [cell.outChannels, c0];
    });
    this.aspp = new ASPP(s, c0, cfg.bn, asppRates(path[path.length - 1]));
    this.decoder = new Decoder(s, cfg.lowLevelCell < 0 ? 128 : this.cells[cfg.lowLevelCell].outChannels, cfg.numClasses, cfg.bn);
  }

  /**
   * Keep probability of cell l's op outputs at drop-path progress t in [0, 1]
   * (training step / total steps; docs/reference.md: scheduled drop path).
   */
  keepProbability(cell: number, progress: number): number {
    const p = this.cfg.dropPathKeep;
    return 1 - ((cell + 1) / this.cells.length) * (1 - p) * Math.min(1, Math.max(0, progress));
  }

  /**
   * Backbone: stem and cells. images (B, 3, H, W) -> features (B, B_blocks*F*2^k, H/s, W/s)
   * of the last cell and lowLevel, the decoder's output-stride-4 input.
   */
  forwardFeatures(images: T.Tensor, training: boolean, opts: ForwardOptions = {}): ModelFeatures {
    const progress = opts.dropPathProgress ?? 1;
    let x = images;
    const stemOut: T.Tensor[] = [];
    for (const st of this.stem) {
      x = st.bn.forward(T.conv2d(st.relu ? T.relu(x) : x, st.w, { stride: st.stride, padding: 1 }), training);
      if (!st.relu) x = T.relu(x); // the first conv is conv -> BN -> ReLU
      stemOut.push(x);
    }
    let [h0, h1] = [stemOut[2], stemOut[1]];
    const path = this.cfg.genotype.path;
    let lowLevel: T.Tensor | null = this.cfg.lowLevelCell < 0 ? h0 : null;
    this.cells.forEach((cell, l) => {
      if (l > 0 && path[l] < path[l - 1]) {
        // A finer level: bilinear x2 (align corners) before the cell, as released.
        const [, , h, w] = h0.shape;
        h0 = T.resizeBilinear(h0, [2 * h - 1, 2 * w - 1], true);
      }
      const out = T.tidy(() => cell.forward(h0, h1, training, training ? this.keepProbability(l, progress) : 1));
      [h0, h1] = [out, h0];
      if (l === this.cfg.lowLevelCell) lowLevel = out;
    });
    return { features: h0, lowLevel: lowLevel! };
  }

  /** Head: ASPP on features, DeepLabv3+ decoder with lowLevel, logits resized to size [H, W]. */
  forwardHead(features: T.Tensor, lowLevel: T.Tensor, size: readonly [number, number], training: boolean): T.Tensor {
    const logits = this.decoder.forward(this.aspp.forward(features, training), lowLevel, training);
    return T.resizeBilinear(logits, [size[0], size[1]], true);
  }

  /** images (B, 3, H, W) -> logits (B, classes, H, W). */
  forward(images: T.Tensor, training: boolean, opts: ForwardOptions = {}): T.Tensor {
    const [, , H, W] = images.shape;
    const { features, lowLevel } = this.forwardFeatures(images, training, opts);
    return this.forwardHead(features, lowLevel, [H, W], training);
  }
}

/**
 * The decoder's low-level features: the third cell when it is at output
 * stride 4 (as released), else the last stride-4 cell before it, else the stem.
 */
export function defaultLowLevelCell(path: readonly number[]): number {
  for (let l = Math.min(2, path.length - 1); l >= 0; l--) if (path[l] === 0 && path.slice(0, l + 1).every((k) => k === 0)) return l;
  return -1;
}
