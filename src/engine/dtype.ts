/** Element types, their libtorch ScalarType codes and JS array types. */

export const DTYPES = ['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool'] as const;
export type DType = (typeof DTYPES)[number];

// c10::ScalarType enum values (c10/core/ScalarType.h).
const SCALAR_TYPE: Record<DType, number> = {
  uint8: 0, int8: 1, int16: 2, int32: 3, int64: 4, float16: 5, float32: 6, float64: 7, bool: 11,
};
const BY_CODE = new Map<number, DType>(Object.entries(SCALAR_TYPE).map(([k, v]) => [v, k as DType]));

export type TypedArray =
  | Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export const BYTES_PER_ELEMENT: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

export function scalarTypeOf(dtype: DType): number {
  const code = SCALAR_TYPE[dtype];
  if (code === undefined) throw new TypeError(`unknown dtype '${String(dtype)}'; expected one of ${DTYPES.join(', ')}`);
  return code;
}

export function dtypeOfScalarType(code: number): DType {
  const d = BY_CODE.get(code);
  if (!d) throw new TypeError(`libtorch scalar type ${code} has no autodeeplab dtype`);
  return d;
}

export function isFloating(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** A view of raw bytes as the typed array that matches dtype. */
export function viewAs(buffer: ArrayBuffer, dtype: DType): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(buffer);
    case 'float64': return new Float64Array(buffer);
    case 'float16': return new Uint16Array(buffer);
    case 'int64': return new BigInt64Array(buffer);
    case 'int32': return new Int32Array(buffer);
    case 'int16': return new Int16Array(buffer);
    case 'int8': return new Int8Array(buffer);
    case 'uint8': case 'bool': return new Uint8Array(buffer);
  }
}

/** The dtype a typed array holds by default. */
export function dtypeOfArray(a: TypedArray): DType {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'float16';
  return 'uint8';
}
