/** Tensor creation: constants, random, ranges, and from JS arrays. */
import { DType, dtypeOfArray, scalarTypeOf, TypedArray } from '../dtype';
import { callInPlace, callTensor } from '../dispatch';
import { native } from '../native';
import { checkDevice, getDefaultDevice, getDefaultFloatDType } from '../runtime';
import { Tensor } from '../tensor';
import { describe, expectShape, expectTensor } from './validate';

export interface CreateOptions {
  dtype?: DType;
  device?: string;
  requiresGrad?: boolean;
}

function factory(op: string, qualified: string, shape: number[], extra: (number | null)[], o: CreateOptions): Tensor {
  expectShape(op, 'shape', shape);
  const device = checkDevice(o.device ?? getDefaultDevice());
  const t = callTensor(qualified, [shape, ...extra, scalarTypeOf(o.dtype ?? getDefaultFloatDType()), null, device, null]);
  return o.requiresGrad ? t.setRequiresGrad(true) : t;
}

export function zeros(shape: number[], o: CreateOptions = {}): Tensor {
  return factory('zeros', 'aten::zeros', shape, [], o);
}
export function ones(shape: number[], o: CreateOptions = {}): Tensor {
  return factory('ones', 'aten::ones', shape, [], o);
}
export function full(shape: number[], value: number, o: CreateOptions = {}): Tensor {
  if (typeof value !== 'number') throw new TypeError(`full: 'value' must be a number, got ${describe(value)}`);
  return factory('full', 'aten::full', shape, [value], o);
}
/** Standard normal samples from the seeded generator. */
export function randn(shape: number[], o: CreateOptions = {}): Tensor {
  return factory('randn', 'aten::randn', shape, [], o);
}
/** Uniform samples in [low, high). */
export function uniform(shape: number[], low = 0, high = 1, o: CreateOptions = {}): Tensor {
  if (!(high > low)) throw new RangeError(`uniform: need low < high, got ${low}, ${high}`);
  const t = factory('uniform', 'aten::empty.memory_format', shape, [], { ...o, requiresGrad: false });
  callInPlace('aten::uniform_', [t, low, high]);
  return o.requiresGrad ? t.setRequiresGrad(true) : t;
}
/** Random integers in [low, high). */
export function randint(low: number, high: number, shape: number[], o: CreateOptions = {}): Tensor {
  expectShape('randint', 'shape', shape);
  const device = checkDevice(o.device ?? getDefaultDevice());
  return callTensor('aten::randint.low', [low, high, shape, scalarTypeOf(o.dtype ?? 'int64'), null, device, null]);
}
/** A random permutation of 0..n-1 (int64). */
export function randperm(n: number, o: CreateOptions = {}): Tensor {
  const device = checkDevice(o.device ?? getDefaultDevice());
  return callTensor('aten::randperm', [n, scalarTypeOf(o.dtype ?? 'int64'), null, device, null]);
}

/** [start, end) in steps; with one argument, [0, start). */
export function arange(start: number, end?: number, step = 1, o: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const device = checkDevice(o.device ?? getDefaultDevice());
  const allInt = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = o.dtype ?? (allInt ? 'int64' : getDefaultFloatDType());
  return callTensor('aten::arange.start_step', [start, end, step, scalarTypeOf(dtype), null, device, null]);
}

/**
 * A tensor from JS data (copied). `data` is a typed array or plain numbers;
 * shape defaults to 1-D. dtype defaults to the typed array's, or float32.
 * @example tensor([1, 2, 3, 4], [2, 2])
 */
export function tensor(data: TypedArray | readonly number[], shape?: number[], o: CreateOptions = {}): Tensor {
  const dtype = o.dtype ?? (Array.isArray(data) ? getDefaultFloatDType() : dtypeOfArray(data as TypedArray));
  const array = toTypedArray(data, dtype);
  const dims = shape ?? [array.length];
  expectShape('tensor', 'shape', dims);
  const n = dims.reduce((a, b) => a * b, 1);
  if (n !== array.length) {
    throw new RangeError(`tensor: shape [${dims}] needs ${n} elements, data has ${array.length}`);
  }
  const device = checkDevice(o.device ?? getDefaultDevice());
  const t = new Tensor(native.fromBuffer(array.buffer as ArrayBuffer, array.byteOffset, dims, scalarTypeOf(dtype), device));
  return o.requiresGrad ? t.setRequiresGrad(true) : t;
}

/** A 0-d tensor. */
export function scalar(value: number, o: CreateOptions = {}): Tensor {
  return tensor([value], [], o);
}

function toTypedArray(data: TypedArray | readonly number[], dtype: DType): TypedArray {
  if (!Array.isArray(data)) {
    const a = data as TypedArray;
    if (dtypeOfArray(a) === dtype || (dtype === 'bool' && a instanceof Uint8Array)) return a;
    return toTypedArray(a instanceof BigInt64Array ? Array.from(a, Number) : Array.from(a as ArrayLike<number>), dtype);
  }
  const xs = data as readonly number[];
  switch (dtype) {
    case 'float32': return Float32Array.from(xs);
    case 'float64': return Float64Array.from(xs);
    case 'int64': return BigInt64Array.from(xs, (v) => BigInt(Math.trunc(v)));
    case 'int32': return Int32Array.from(xs);
    case 'int16': return Int16Array.from(xs);
    case 'int8': return Int8Array.from(xs);
    case 'uint8': case 'bool': return Uint8Array.from(xs);
    case 'float16': throw new TypeError('tensor: build float16 tensors from float32 with cast()');
  }
}

export function zerosLike(x: Tensor): Tensor {
  expectTensor('zerosLike', 'x', x);
  return zeros(x.shape, { dtype: x.dtype, device: x.device });
}
export function onesLike(x: Tensor): Tensor {
  expectTensor('onesLike', 'x', x);
  return ones(x.shape, { dtype: x.dtype, device: x.device });
}
