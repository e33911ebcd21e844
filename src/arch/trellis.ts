/**
 * The network-level search space (Sec. 3.2, Fig. 1): L layers over levels
 * 0..3 (output strides 4..32) after the stem. Layer l can reach levels
 * 0..min(3, l + 1): the stem sits at level 0 and each step moves at most one
 * level. beta[l][k][d + 1] is the arrow leaving node (l - 1, k) (the stem for
 * l = 0) towards (l, k + d), d in {-1: finer, 0: same, +1: coarser}.
 */
import * as T from '../engine';
import { betaIndex } from './topology';

export const MAX_LEVELS = 4;
export const DIRECTIONS = [-1, 0, 1] as const;
export type Direction = (typeof DIRECTIONS)[number];

export interface Arrow {
  /** Level of the source node in layer l - 1 (the stem for l = 0). */
  from: number;
  /** Level of the target node in layer l. */
  to: number;
  dir: Direction;
}

export class NetworkTrellis {
  constructor(readonly layers: number, readonly levels = MAX_LEVELS) {
    if (!Number.isInteger(layers) || layers < 1) throw new RangeError(`NetworkTrellis: layers must be >= 1, got ${layers}`);
    if (!Number.isInteger(levels) || levels < 1 || levels > MAX_LEVELS) {
      throw new RangeError(`NetworkTrellis: levels must be 1..${MAX_LEVELS}, got ${levels}`);
    }
  }

  /** Levels present in layer l (l = -1 is the stem: level 0 only). */
  levelsAt(l: number): number[] {
    const top = Math.min(this.levels - 1, l + 1);
    return Array.from({ length: top + 1 }, (_, k) => k);
  }

  hasNode(l: number, k: number): boolean {
    return l >= -1 && l < this.layers && k >= 0 && k <= Math.min(this.levels - 1, l + 1);
  }

  /** Arrows leaving node (l - 1, from) into layer l. */
  arrowsFrom(l: number, from: number): Arrow[] {
    return DIRECTIONS.filter((d) => this.hasNode(l, from + d)).map((d) => ({ from, to: from + d, dir: d }));
  }

  /** Arrows arriving at node (l, to), ordered by source level. */
  arrowsInto(l: number, to: number): Arrow[] {
    return this.levelsAt(l - 1)
      .filter((from) => Math.abs(to - from) <= 1)
      .map((from) => ({ from, to, dir: (to - from) as Direction }));
  }

  /** Additive mask for beta logits: -inf on arrows that do not exist, 0 elsewhere. (L, levels, 3) */
  betaMask(): Float32Array {
    const m = new Float32Array(this.layers * this.levels * 3);
    for (let l = 0; l < this.layers; l++) {
      for (let k = 0; k < this.levels; k++) {
        if (!this.hasNode(l - 1, k)) continue; // rows without a source stay 0 (unused, finite)
        DIRECTIONS.forEach((d) => {
          if (!this.hasNode(l, k + d)) m[betaIndex(l, k, d, this.levels)] = -Infinity;
        });
      }
    }
    return m;
  }

  /**
   * Eq. 7: softmax over the arrows that leave each node. Nodes at levels 0
   * and 3 have two arrows, others three; each arrow keeps its own beta.
   * beta: (L, levels, 3) logits -> same shape, rows of real nodes sum to 1.
   */
  normalizeBetas(beta: T.Tensor, mask: T.Tensor): T.Tensor {
    return T.softmax(T.add(beta, mask), -1);
  }

  /** Number of distinct network paths (for documentation and tests). */
  countPaths(): number {
    let counts = new Map<number, number>([[0, 1]]); // the stem
    for (let l = 0; l < this.layers; l++) {
      const next = new Map<number, number>();
      for (const [k, n] of counts) for (const a of this.arrowsFrom(l, k)) next.set(a.to, (next.get(a.to) ?? 0) + n);
      counts = next;
    }
    return [...counts.values()].reduce((a, b) => a + b, 0);
  }
}
