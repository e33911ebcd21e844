/**
 * The 8 candidate operations of a cell edge (Sec. 3.1), one source of truth.
 * They come in families that the fused supernet computes together, so the
 * list is built from typed tuples: the column of alpha of every op, the
 * channel layout of the fused batch norms and the per-op tables (kernel
 * sizes, pool functions, the retrained ops) all derive from these, and a
 * primitive added to a family without its table entries fails to compile.
 */

/** Depthwise-separable convs: two stacked ReLU -> depthwise kxk -> pointwise 1x1 -> BN. */
export const SEP_OPS = ['sep3x3', 'sep5x5'] as const;
/** Atrous convs at rate 2: ReLU -> regular kxk conv -> BN (as released, not separable). */
export const ATROUS_OPS = ['atrous3x3', 'atrous5x5'] as const;
/** The ops with weights, in the order of the fused conv-op batch norm's channel groups. */
export const CONV_OPS = [...SEP_OPS, ...ATROUS_OPS] as const;
/** 3x3 poolings, stride 1 (no weights; the search follows each by an affine-free BN, as DARTS). */
export const POOL_OPS = ['avgpool3x3', 'maxpool3x3'] as const;

export const PRIMITIVES = [...CONV_OPS, ...POOL_OPS, 'skip', 'zero'] as const;

export type SepOp = (typeof SEP_OPS)[number];
export type AtrousOp = (typeof ATROUS_OPS)[number];
export type ConvOp = (typeof CONV_OPS)[number];
export type PoolOp = (typeof POOL_OPS)[number];
export type Primitive = (typeof PRIMITIVES)[number];
/** What a decoded cell may use: every primitive but zero. */
export type CellOpName = Exclude<Primitive, 'zero'>;

/** Kernel size of each convolution op. */
export const KERNEL: Readonly<Record<ConvOp, number>> = Object.freeze({ sep3x3: 3, sep5x5: 5, atrous3x3: 3, atrous5x5: 5 });

/** Dilation of the atrous ops (Sec. 3.1: rate 2). */
export const ATROUS_RATE = 2;

export const PRIMITIVE_INDEX: Readonly<Record<Primitive, number>> = Object.freeze(Object.fromEntries(
  PRIMITIVES.map((p, i) => [p, i]),
) as Record<Primitive, number>);

export const ZERO = PRIMITIVE_INDEX.zero;

/** First column of a family in alpha's rows and how many it spans (families are contiguous by construction). */
export function familyColumns(family: readonly Primitive[]): { first: number; count: number } {
  const first = PRIMITIVE_INDEX[family[0]];
  family.forEach((p, i) => {
    if (PRIMITIVE_INDEX[p] !== first + i) throw new Error(`primitives: family ${family.join(', ')} is not contiguous`);
  });
  return { first, count: family.length };
}

export function isPrimitive(s: unknown): s is Primitive {
  return typeof s === 'string' && (PRIMITIVES as readonly string[]).includes(s);
}
