/** Element-wise arithmetic, activations and comparisons (with broadcasting). */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { describe, expectTensor } from './validate';

type Operand = Tensor | number;

function binary(op: string, tensorOp: string, scalarOp: string, a: Tensor, b: Operand, extra: number[] = []): Tensor {
  expectTensor(op, 'a', a);
  if (typeof b === 'number') return callTensor(scalarOp, [a, b, ...extra]);
  expectTensor(op, 'b', b);
  checkBroadcast(op, a, b);
  return callTensor(tensorOp, [a, b, ...extra]);
}

function checkBroadcast(op: string, a: Tensor, b: Tensor): void {
  const x = a.shape;
  const y = b.shape;
  for (let i = 1; i <= Math.min(x.length, y.length); i++) {
    const p = x[x.length - i];
    const q = y[y.length - i];
    if (p !== q && p !== 1 && q !== 1) {
      throw new RangeError(`${op}: shapes [${x}] and [${y}] do not broadcast`);
    }
  }
}

/** a + alpha * b */
export function add(a: Tensor, b: Operand, alpha = 1): Tensor {
  return binary('add', 'aten::add.Tensor', 'aten::add.Scalar', a, b, [alpha]);
}
/** a - alpha * b */
export function sub(a: Tensor, b: Operand, alpha = 1): Tensor {
  return binary('sub', 'aten::sub.Tensor', 'aten::sub.Scalar', a, b, [alpha]);
}
export function mul(a: Tensor, b: Operand): Tensor {
  return binary('mul', 'aten::mul.Tensor', 'aten::mul.Scalar', a, b);
}
/** True division (integers promote to float). */
export function div(a: Tensor, b: Operand): Tensor {
  return binary('div', 'aten::div.Tensor', 'aten::div.Scalar', a, b);
}
export function pow(a: Tensor, exponent: Operand): Tensor {
  return binary('pow', 'aten::pow.Tensor_Tensor', 'aten::pow.Tensor_Scalar', a, exponent);
}
export function maximum(a: Tensor, b: Tensor): Tensor {
  return binary('maximum', 'aten::maximum', 'aten::maximum', a, b);
}
export function minimum(a: Tensor, b: Tensor): Tensor {
  return binary('minimum', 'aten::minimum', 'aten::minimum', a, b);
}

function unary(op: string, qualified: string): (x: Tensor) => Tensor {
  return (x: Tensor) => {
    expectTensor(op, 'x', x);
    return callTensor(qualified, [x]);
  };
}

export const neg = unary('neg', 'aten::neg');
export const relu = unary('relu', 'aten::relu');
export const exp = unary('exp', 'aten::exp');
export const log = unary('log', 'aten::log');
export const sqrt = unary('sqrt', 'aten::sqrt');
export const abs = unary('abs', 'aten::abs');
export const sigmoid = unary('sigmoid', 'aten::sigmoid');
export const tanh = unary('tanh', 'aten::tanh');
export const square = unary('square', 'aten::square');
export const sign = unary('sign', 'aten::sign');
export const floor = unary('floor', 'aten::floor');
export const logicalNot = unary('logicalNot', 'aten::logical_not');

/** Clamps into [min, max] (either may be null). */
export function clamp(x: Tensor, min: number | null, max: number | null): Tensor {
  expectTensor('clamp', 'x', x);
  if (min !== null && max !== null && min > max) throw new RangeError(`clamp: min ${min} > max ${max}`);
  return callTensor('aten::clamp', [x, min, max]);
}

/** cond ? a : b, element-wise (cond is bool). */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  expectTensor('where', 'cond', cond);
  expectTensor('where', 'a', a);
  expectTensor('where', 'b', b);
  if (cond.dtype !== 'bool') throw new TypeError(`where: 'cond' must be bool, got ${cond.dtype}`);
  return callTensor('aten::where.self', [cond, a, b]);
}

function compare(op: string, name: string): (a: Tensor, b: Operand) => Tensor {
  return (a: Tensor, b: Operand) => binary(op, `aten::${name}.Tensor`, `aten::${name}.Scalar`, a, b);
}
export const eq = compare('eq', 'eq');
export const ne = compare('ne', 'ne');
export const gt = compare('gt', 'gt');
export const ge = compare('ge', 'ge');
export const lt = compare('lt', 'lt');
export const le = compare('le', 'le');

export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  return binary('logicalAnd', 'aten::logical_and', 'aten::logical_and', a, b);
}

/** Throws unless v is a finite number: for scalar hyper-parameters of ops. */
export function finite(op: string, name: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`${op}: '${name}' must be finite, got ${describe(v)}`);
  return v;
}
