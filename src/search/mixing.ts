/**
 * Per-forward views of the normalised alphas, shaped for the batched cell.
 * alpha is shared by every cell (Sec. 4.1.2), so each view is built once per
 * forward pass and reused by all nodes with the same source, arrow count and
 * width.
 */
import * as T from '../engine';
import { edgeIndex } from './decode';
import { PRIMITIVE_INDEX } from './primitives';

/** Target blocks of the edges leaving source j (0 prevPrev, 1 prev, 2 + m block m). */
export function targetsOf(source: number, blocks: number): number[] {
  const first = source < 2 ? 0 : source - 1;
  return Array.from({ length: Math.max(0, blocks - first) }, (_, t) => first + t);
}

/** Weights of one source's E edges, ready to broadcast. */
export interface SourceMix {
  /** BN weights that fold alpha into the conv ops: (m * E * C), layout (arrow, edge, channel). */
  sep3: T.Tensor;
  sep5: T.Tensor;
  atr3: T.Tensor;
  atr5: T.Tensor;
  /** (1, 1, E, 1, 1, 1) weights of avg pool, max pool and skip. */
  avg: T.Tensor;
  max: T.Tensor;
  skip: T.Tensor;
}

export class ArchMixer {
  private readonly cache = new Map<string, SourceMix>();
  private readonly rows: T.Tensor[] = [];

  /** alphaHat: (numEdges, 8) softmaxed; index tensors are kept by the caller. */
  constructor(private readonly alphaHat: T.Tensor, private readonly blocks: number, edgeRows: T.Tensor[]) {
    // (E_j, 8) rows of alphaHat for the edges leaving each source.
    for (const idx of edgeRows) this.rows.push(T.indexSelect(alphaHat, 0, idx));
  }

  /** The weights for source j at multiplicity m (arrows) and width C. */
  mix(source: number, m: number, channels: number): SourceMix {
    const key = `${source}:${m}:${channels}`;
    let s = this.cache.get(key);
    if (!s) {
      const rows = this.rows[source]; // (E, 8)
      const E = rows.shape[0];
      const col = (name: keyof typeof PRIMITIVE_INDEX) => T.narrow(rows, 1, PRIMITIVE_INDEX[name], 1);
      // Repeat each edge's weight over channels and arrows: (m, E, C) flattened.
      const bnWeight = (w: T.Tensor) => T.reshape(T.expand(T.reshape(w, [1, E, 1]), [m, E, channels]), [m * E * channels]);
      const edgeView = (w: T.Tensor) => T.reshape(w, [1, 1, E, 1, 1, 1]);
      s = {
        sep3: bnWeight(col('sep3x3')),
        sep5: bnWeight(col('sep5x5')),
        atr3: bnWeight(col('atrous3x3')),
        atr5: bnWeight(col('atrous5x5')),
        avg: edgeView(col('avgpool3x3')),
        max: edgeView(col('maxpool3x3')),
        skip: edgeView(col('skip')),
      };
      this.cache.set(key, s);
    }
    return s;
  }
}

/** int64 row indices of alpha for the edges leaving each source (kept constants). */
export function sourceEdgeRows(blocks: number): T.Tensor[] {
  const out: T.Tensor[] = [];
  for (let j = 0; j < blocks + 1; j++) {
    const rows = targetsOf(j, blocks).map((i) => edgeIndex(i, j));
    out.push(T.tensor(rows.length ? rows : [0], [rows.length ? rows.length : 1], { dtype: 'int64' }).keep());
  }
  return out;
}
