/**
 * Cost of the retrained network (src/model/network.ts) as a function of the
 * architecture, part by part: the stem, each cell's preprocessing and ops,
 * ASPP and the decoder. A CostTable answers "what does this part cost here";
 * MultiAddsTable is the closed form of what `cost` counts (a plain count of
 * convolution multiply-accumulates), a measured latency table
 * (src/deploy/latency.ts) answers the same questions in milliseconds.
 *
 * Feature-map sizes depend on the path, not only on the level: a finer move
 * upsamples n -> 2n - 1 (align corners), a coarser one halves n -> ceil(n / 2),
 * so a level revisited after a detour is 1-3 pixels smaller. `stepCell` walks
 * a path exactly as the model does; the expected cost and the constrained
 * decoder use the same walk, so all three agree to the multiply-accumulate.
 */
import { CellGenotype, Genotype, Level } from '../arch/genotype';
import { CellOpName, OP_TABLE } from '../arch/primitives';
import { inputIndex } from '../arch/topology';

/** [H, W] of a feature map. */
export type Size = readonly [number, number];

/** Where a cell input comes from: STEM_MID (64 channels, stride 2), STEM_OUT (128, stride 4) or a cell at level 0..3. */
export const STEM_MID = -2;
export const STEM_OUT = -1;
export const STEM_CHANNELS = [64, 128] as const;

/** Output side of a 3x3 (or kxk with "same" padding) stride-2 conv, and of the stride-2 ops of a cell. */
export const halve = (n: number) => Math.floor((n - 1) / 2) + 1;

/** What the network is built with, beyond the genotype. */
export interface NetworkShape {
  filterMultiplier: number;
  blocks: number;
  numClasses: number;
  /** Input [H, W]. */
  size: Size;
}

/** Costs of the parts of the retrained network; every figure in the table's unit. */
export interface CostTable {
  readonly unit: 'multiAdds' | 'ms';
  readonly shape: NetworkShape;
  /** The three stem convs. */
  stem(): number;
  /** A cell's ReLU-1x1-BN of h0 (from source0) and of h1 (from source1, when its width differs), at the cell's input size. */
  pre(source0: number, source1: number, level: number, inSize: Size): number;
  /** One branch of a cell at `level` (F * 2^level channels in and out), at the cell's output size. */
  op(op: CellOpName, level: number, strided: boolean, outSize: Size): number;
  /** The bilinear x2 before a cell that moves to a finer level (outSize: after it). */
  upsample(level: number, outSize: Size): number;
  /** ASPP on the last cell. */
  aspp(level: number, size: Size): number;
  /** The decoder, its low-level input a cell (5F channels) or the stem (128). */
  decoder(lowFromCell: boolean): number;
}

/** The walk through the network: the last two cell outputs (sources) and the size of the last. */
export interface WalkState {
  prev: number;
  cur: number;
  size: Size;
}

/** Where a cell at `level` sits, given the state after the previous cell. */
export interface CellSite {
  level: number;
  prev: number;
  prevPrev: number;
  /** Size after the optional upsampling: the size at which pre0/pre1 run. */
  inSize: Size;
  outSize: Size;
  /** Moves to a coarser level: the branches reading the cell inputs have stride 2. */
  strided: boolean;
  /** Moves to a finer level: bilinear x2 before the cell. */
  upsampled: boolean;
}

/** The state after the stem: h0 = the 128-channel stride-4 output, h1 = the 64-channel stride-2 one. */
export function stemState(size: Size): WalkState {
  return { prev: STEM_MID, cur: STEM_OUT, size: level0Size(size) };
}

export function level0Size(size: Size): Size {
  return [halve(halve(size[0])), halve(halve(size[1]))];
}

const levelOf = (source: number) => Math.max(0, source);

/** The cell at `level` after state s, and the state after it (as AutoDeepLab.forwardFeatures does). */
export function stepCell(s: WalkState, level: number): { site: CellSite; next: WalkState } {
  const from = levelOf(s.cur);
  const upsampled = level < from;
  const strided = level > from;
  const inSize: Size = upsampled ? [2 * s.size[0] - 1, 2 * s.size[1] - 1] : s.size;
  const outSize: Size = strided ? [halve(inSize[0]), halve(inSize[1])] : inSize;
  return { site: { level, prev: s.cur, prevPrev: s.prev, inSize, outSize, strided, upsampled }, next: { prev: s.cur, cur: level, size: outSize } };
}

/** Every cell's site along a path. */
export function pathSites(path: readonly number[], size: Size): CellSite[] {
  let s = stemState(size);
  return path.map((k) => {
    const { site, next } = stepCell(s, k);
    s = next;
    return site;
  });
}

/** Cost of a site's fixed part (preprocessing, upsampling): everything but the branches. */
export function siteFixedCost(t: CostTable, site: CellSite): number {
  return t.pre(site.prev, site.prevPrev, site.level, site.inSize) + (site.upsampled ? t.upsample(site.level, site.inSize) : 0);
}

/** Cost of one branch reading `source` (0 prevPrev, 1 prev, 2+ a block) at a site. */
export function branchCost(t: CostTable, site: CellSite, op: CellOpName, source: number): number {
  return t.op(op, site.level, site.strided && source < 2, site.outSize);
}

/** Head: ASPP on the last cell, and the decoder (its low-level input is a cell when the path starts at level 0). */
export function headCost(t: CostTable, path: readonly number[], last: CellSite): number {
  return t.aspp(last.level, last.outSize) + t.decoder(path[0] === 0);
}

/** Exact cost of the network that `train` builds from this cell and path. */
export function networkCost(t: CostTable, cell: CellGenotype | readonly CellGenotype[], path: readonly Level[]): number {
  const sites = pathSites(path, t.shape.size);
  let total = t.stem();
  for (const [l, site] of sites.entries()) {
    total += siteFixedCost(t, site);
    // One cell for every layer, or (a search with alpha per layer) the cell of layer l.
    const c = 'blocks' in cell ? cell : (cell as readonly CellGenotype[])[l];
    for (const block of c.blocks) for (const br of block) total += branchCost(t, site, br.op, inputIndex(br.input));
  }
  return total + headCost(t, path, sites[sites.length - 1]);
}

/** networkCost of a genotype, with its one cell or its cell per layer. */
export function genotypeCost(t: CostTable, g: Genotype): number {
  return networkCost(t, g.cells ?? g.cell!, g.path);
}

/** The closed form of `cost`'s plain count of convolution multiply-accumulates. */
export class MultiAddsTable implements CostTable {
  readonly unit = 'multiAdds';
  constructor(readonly shape: NetworkShape) {}

  /** Output channels of a source. */
  channels(source: number): number {
    if (source === STEM_MID) return STEM_CHANNELS[0];
    if (source === STEM_OUT) return STEM_CHANNELS[1];
    return this.shape.blocks * this.filters(source);
  }

  filters(level: number): number {
    return this.shape.filterMultiplier * 2 ** level;
  }

  stem(): number {
    const [H, W] = this.shape.size;
    const [h1, w1] = [halve(H), halve(W)];
    const [h0, w0] = level0Size(this.shape.size);
    return h1 * w1 * 9 * (64 * 3 + 64 * 64) + h0 * w0 * 9 * 128 * 64;
  }

  pre(source0: number, source1: number, level: number, [h, w]: Size): number {
    const C = this.filters(level);
    const c1 = this.channels(source1);
    return h * w * C * (this.channels(source0) + (c1 !== C ? c1 : 0));
  }

  op(op: CellOpName, level: number, strided: boolean, [h, w]: Size): number {
    const C = this.filters(level);
    const t = OP_TABLE[op];
    switch (t.family) {
      case 'sep': return h * w * 2 * (C * t.kernel ** 2 + C * C); // 2 x (depthwise + pointwise)
      case 'atrous': return h * w * C * C * t.kernel ** 2;
      case 'skip': return strided ? h * w * C * C : 0; // a strided skip is a 1x1 conv
      case 'pool': return 0; // cin = cout in a cell: no projection
    }
  }

  upsample(): number {
    return 0;
  }

  aspp(level: number, [h, w]: Size): number {
    const cin = this.channels(level);
    // image pooling (1x1 at 1x1), 1x1, three 3x3 (rates 12/24/36), projection of the 5 x 256 concat.
    return cin * 256 + h * w * (cin * 256 * (1 + 3 * 9) + 5 * 256 * 256);
  }

  decoder(lowFromCell: boolean): number {
    const [h, w] = level0Size(this.shape.size);
    const low = lowFromCell ? this.channels(0) : STEM_CHANNELS[1];
    return h * w * (48 * low + 9 * 256 * (256 + 48) + 9 * 256 * 256 + this.shape.numClasses * 256);
  }
}
