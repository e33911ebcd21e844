/**
 * Per-forward views of the normalised alphas, shaped for the batched cell.
 * alpha is shared by every cell (Sec. 4.1.2), so each view is built once per
 * forward pass and reused by all nodes with the same source, arrow count,
 * width and weight copies. With alpha per layer (--alpha-per-layer), each
 * layer has its own cell family and so its own mixer.
 */
import * as T from '../engine';
import { edgeIndex, feedingSources, targetsOf } from '../arch/topology';
import { CONV_OPS, familyColumns, POOL_OPS, PRIMITIVE_INDEX } from '../arch/primitives';

const CONV = familyColumns(CONV_OPS);
const POOL = familyColumns(POOL_OPS);

/** Weights of one source's E edges, ready to broadcast. */
export interface SourceMix {
  /**
   * BN scale folding alpha into the conv ops: (m * |CONV_OPS| * E * C), layout
   * (arrow, CONV_OPS, edge, channel) for shared cells, (CONV_OPS, arrow, edge, channel) untied.
   */
  convOps: T.Tensor;
  /** (1, |POOL_OPS|, 1, E, 1, 1, 1): pool weights per edge. */
  pools: T.Tensor;
  /** (1, 1, E, 1, 1, 1): skip weights per edge. */
  skip: T.Tensor;
}

export interface MixKey {
  source: number;
  m: number;
  channels: number;
  /** Weight copies (m for untied cells, else 1): fixes the layout of convOps. */
  copies: number;
}

export const mixKey = (k: MixKey) => `${k.source}:${k.m}:${k.channels}:${k.copies}`;

/** One source's weights before they are laid out for a width and arrow count. */
interface SourceColumns {
  /** (1, |CONV_OPS|, 1, E, 1) */
  conv: T.Tensor;
  pools: T.Tensor;
  skip: T.Tensor;
}

export class ArchMixer {
  private readonly cache = new Map<string, SourceMix>();
  private readonly columns: SourceColumns[] = [];

  /**
   * alphaHat: (numEdges, |PRIMITIVES|) softmaxed; index tensors are kept by the caller.
   * Every (source, arrows, width) a forward pass will ask for is built here,
   * in the caller's scope, so that per-node scopes can use them freely. The
   * per-source columns are cut once; each (arrows, width, copies) adds only
   * its broadcast of the conv columns (two operators).
   */
  constructor(alphaHat: T.Tensor, edgeRows: T.Tensor[], uses: readonly MixKey[]) {
    for (const idx of edgeRows) this.columns.push(sourceColumns(T.indexSelect(alphaHat, 0, idx)));
    for (const u of uses) this.build(u);
  }

  /** The weights for source j at multiplicity m (arrows), width C and weight copies G. */
  mix(source: number, m: number, channels: number, copies: number): SourceMix {
    const s = this.cache.get(mixKey({ source, m, channels, copies }));
    if (!s) throw new Error(`ArchMixer: no weights prepared for source ${source}, ${m} arrows, width ${channels}, ${copies} copies`);
    return s;
  }

  private build(u: MixKey): void {
    const key = mixKey(u);
    if (this.cache.has(key)) return;
    const { source, m, channels, copies } = u;
    const { conv, pools, skip } = this.columns[source];
    const [, n, , E] = conv.shape;
    // (arrows as batch, CONV_OPS, copies, edge, channel): the conv-op BN's channel layout.
    const convOps = T.reshape(T.expand(conv, [m / copies, n, copies, E, channels]), [m * n * E * channels]);
    this.cache.set(key, { convOps, pools, skip });
  }
}

/** rows: (E, |PRIMITIVES|), the alphas of the edges leaving one source. */
function sourceColumns(rows: T.Tensor): SourceColumns {
  const E = rows.shape[0];
  const cols = (f: { first: number; count: number }) => T.transpose(T.narrow(rows, 1, f.first, f.count), 0, 1); // (count, E)
  return {
    conv: T.reshape(cols(CONV), [1, CONV.count, 1, E, 1]),
    pools: T.reshape(cols(POOL), [1, POOL.count, 1, E, 1, 1, 1]),
    skip: T.reshape(T.narrow(rows, 1, PRIMITIVE_INDEX.skip, 1), [1, 1, E, 1, 1, 1]),
  };
}

/** int64 row indices of alpha for the edges leaving each source (kept constants). */
export function sourceEdgeRows(blocks: number): T.Tensor[] {
  return feedingSources(blocks).map((j) => {
    const rows = targetsOf(j, blocks).map((i) => edgeIndex(i, j));
    return T.tensor(rows, [rows.length], { dtype: 'int64' }).keep();
  });
}
