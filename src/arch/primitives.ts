/**
 * The 8 candidate operations of a cell edge (Sec. 3.1), one source of truth.
 * They come in families that the fused supernet computes together: the
 * column of alpha of every op, the channel layout of the fused batch norms,
 * the kernel sizes, the pool functions, the search's and the retrained
 * model's ops, their cost and their colours all derive from OP_TABLE.
 */

/**
 * The one table of candidate operations, in alpha's column order. Each entry
 * names its family (how the fused supernet computes it, how the retrained
 * model builds it, what it costs), its kernel size (convolutions), its pool
 * (poolings) and its colour in diagrams. Adding an op to an existing family
 * is one line here, placed beside its family (families must be contiguous);
 * every other table derives from this one, and docs/genotype.schema.json's op
 * enum is tested against it.
 *
 * - sep: depthwise-separable, two stacked ReLU -> depthwise kxk -> pointwise 1x1 -> BN.
 * - atrous: ReLU -> regular kxk conv at rate 2 -> BN (as released, not separable).
 * - pool: 3x3 pooling, stride 1 (no weights; the search follows each by an affine-free BN, as DARTS).
 * - skip: identity; zero: no connection (searched, never decoded).
 */
export const OP_TABLE = {
  sep3x3: { family: 'sep', kernel: 3, color: '#1f77b4' },
  sep5x5: { family: 'sep', kernel: 5, color: '#17becf' },
  atrous3x3: { family: 'atrous', kernel: 3, color: '#d62728' },
  atrous5x5: { family: 'atrous', kernel: 5, color: '#ff7f0e' },
  avgpool3x3: { family: 'pool', pool: 'avg', color: '#2ca02c' },
  maxpool3x3: { family: 'pool', pool: 'max', color: '#9467bd' },
  skip: { family: 'skip', color: '#7f7f7f' },
  zero: { family: 'zero', color: '#000000' },
} as const;

type OpTable = typeof OP_TABLE;
export type Primitive = keyof OpTable;
export type OpFamily = OpTable[Primitive]['family'];
/** The ops of one family, as a type. */
type OfFamily<F extends OpFamily> = { [K in Primitive]: OpTable[K]['family'] extends F ? K : never }[Primitive];

export const PRIMITIVES = Object.keys(OP_TABLE) as readonly Primitive[];
const ofFamily = <F extends OpFamily>(f: F) => PRIMITIVES.filter((p): p is OfFamily<F> => OP_TABLE[p].family === f) as readonly OfFamily<F>[];

/** Depthwise-separable convs. */
export const SEP_OPS = ofFamily('sep');
/** Atrous convs at rate 2. */
export const ATROUS_OPS = ofFamily('atrous');
/** The ops with weights, in the order of the fused conv-op batch norm's channel groups. */
export const CONV_OPS: readonly ConvOp[] = [...SEP_OPS, ...ATROUS_OPS];
/** 3x3 poolings, stride 1. */
export const POOL_OPS = ofFamily('pool');

export type SepOp = OfFamily<'sep'>;
export type AtrousOp = OfFamily<'atrous'>;
export type ConvOp = SepOp | AtrousOp;
export type PoolOp = OfFamily<'pool'>;
/** What a decoded cell may use: every primitive but zero. */
export type CellOpName = Exclude<Primitive, 'zero'>;
/** Every primitive but zero, in table order. */
export const CELL_OPS = PRIMITIVES.filter((p): p is CellOpName => p !== 'zero');

/** Kernel size of each convolution op. */
export const KERNEL: Readonly<Record<ConvOp, number>> = Object.freeze(Object.fromEntries(CONV_OPS.map((op) => [op, OP_TABLE[op].kernel])) as Record<ConvOp, number>);

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
