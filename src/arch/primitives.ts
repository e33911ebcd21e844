/**
 * The 8 candidate operations of a cell edge (Sec. 3.1), one source of truth:
 * the list, the union type derived from it, and their index in alpha's rows.
 */
export const PRIMITIVES = [
  'sep3x3', // 3x3 depthwise-separable conv (two stacked ReLU-dw-pw-BN)
  'sep5x5', // 5x5 depthwise-separable conv
  'atrous3x3', // 3x3 atrous conv, rate 2 (ReLU-conv-BN, regular conv as released)
  'atrous5x5', // 5x5 atrous conv, rate 2
  'avgpool3x3', // 3x3 average pooling
  'maxpool3x3', // 3x3 max pooling
  'skip', // identity
  'zero', // no connection
] as const;

export type Primitive = (typeof PRIMITIVES)[number];

export const PRIMITIVE_INDEX: Record<Primitive, number> = Object.fromEntries(
  PRIMITIVES.map((p, i) => [p, i]),
) as Record<Primitive, number>;

export const ZERO = PRIMITIVE_INDEX.zero;

export function isPrimitive(s: unknown): s is Primitive {
  return typeof s === 'string' && (PRIMITIVES as readonly string[]).includes(s);
}
