/** Reductions: sums, means, extrema, arg-extrema. */
import { callTensor, callTensors } from '../dispatch';
import { Tensor } from '../tensor';
import { expectTensor, normDim } from './validate';

function dimsOf(op: string, x: Tensor, dims: number | number[] | undefined): number[] | null {
  if (dims === undefined) return null;
  const list = typeof dims === 'number' ? [dims] : dims;
  return list.map((d) => normDim(op, d, x.rank));
}

/** Sum over dims (all when omitted). */
export function sum(x: Tensor, dims?: number | number[], keepDim = false): Tensor {
  expectTensor('sum', 'x', x);
  const d = dimsOf('sum', x, dims);
  return d === null ? callTensor('aten::sum', [x, null]) : callTensor('aten::sum.dim_IntList', [x, d, keepDim, null]);
}

/** Mean over dims (all when omitted). */
export function mean(x: Tensor, dims?: number | number[], keepDim = false): Tensor {
  expectTensor('mean', 'x', x);
  const d = dimsOf('mean', x, dims);
  return d === null ? callTensor('aten::mean', [x, null]) : callTensor('aten::mean.dim', [x, d, keepDim, null]);
}

/** The largest element (0-d). */
export function max(x: Tensor): Tensor {
  expectTensor('max', 'x', x);
  return callTensor('aten::max', [x]);
}
export function min(x: Tensor): Tensor {
  expectTensor('min', 'x', x);
  return callTensor('aten::min', [x]);
}

/** Largest values along dim and where they are. */
export function maxDim(x: Tensor, dim: number, keepDim = false): { values: Tensor; indices: Tensor } {
  expectTensor('maxDim', 'x', x);
  const [values, indices] = callTensors('aten::max.dim', [x, normDim('maxDim', dim, x.rank), keepDim]);
  return { values, indices };
}

/** Index of the largest element along dim (of the flattened tensor when dim is omitted). */
export function argmax(x: Tensor, dim?: number, keepDim = false): Tensor {
  expectTensor('argmax', 'x', x);
  return callTensor('aten::argmax', [x, dim === undefined ? null : normDim('argmax', dim, x.rank), keepDim]);
}
export function argmin(x: Tensor, dim?: number, keepDim = false): Tensor {
  expectTensor('argmin', 'x', x);
  return callTensor('aten::argmin', [x, dim === undefined ? null : normDim('argmin', dim, x.rank), keepDim]);
}

/** Counts of each value 0..minLength-1 in a 1-D int64 tensor. */
export function bincount(x: Tensor, minLength = 0): Tensor {
  expectTensor('bincount', 'x', x);
  if (x.rank !== 1) throw new RangeError(`bincount: expected a 1-D tensor, got shape [${x.shape}]`);
  return callTensor('aten::bincount', [x, null, minLength]);
}
