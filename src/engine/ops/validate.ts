/** Input checks shared by op files: messages name the op, the argument and what was expected. */
import { Tensor } from '../tensor';

export function expectTensor(op: string, name: string, x: unknown): asserts x is Tensor {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: argument '${name}' must be a Tensor, got ${describe(x)}`);
  if (x.isDisposed) throw new Error(`${op}: argument '${name}' was already disposed`);
}

export function expectRank(op: string, name: string, x: Tensor, ...ranks: number[]): void {
  expectTensor(op, name, x);
  if (!ranks.includes(x.rank)) {
    throw new RangeError(`${op}: argument '${name}' must have rank ${ranks.join(' or ')}, got shape [${x.shape}]`);
  }
}

export function expectInt(op: string, name: string, v: unknown, min = -Infinity): asserts v is number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new RangeError(`${op}: '${name}' must be an integer${min > -Infinity ? ` >= ${min}` : ''}, got ${describe(v)}`);
  }
}

export function expectShape(op: string, name: string, shape: unknown): asserts shape is number[] {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new TypeError(`${op}: '${name}' must be an array of non-negative integers, got ${describe(shape)}`);
  }
}

/** n or [a, b] -> [a, b] for 2-D window arguments. */
export function pair(op: string, name: string, v: number | readonly number[], min = 0): [number, number] {
  const p: number[] = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < min)) {
    throw new RangeError(`${op}: '${name}' must be an integer >= ${min} or a pair of them, got ${describe(v)}`);
  }
  return [p[0], p[1]];
}

/** A dimension index, negative from the end, checked against rank. */
export function normDim(op: string, dim: number, rank: number): number {
  expectInt(op, 'dim', dim);
  const d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank) throw new RangeError(`${op}: dim ${dim} is out of range for rank ${rank}`);
  return d;
}

export function describe(v: unknown): string {
  if (v instanceof Tensor) return v.toString();
  if (Array.isArray(v)) return `[${v.map(describe).join(', ')}]`;
  if (typeof v === 'string') return `'${v}'`;
  return String(v);
}
