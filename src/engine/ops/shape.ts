/** Shape and layout ops: views, joins, padding, casts, device moves. */
import { DType, scalarTypeOf } from '../dtype';
import { callTensor, callTensors } from '../dispatch';
import { checkDevice } from '../runtime';
import { Tensor } from '../tensor';
import { expectInt, expectShape, expectTensor, normDim } from './validate';

/** Same elements, new shape; one dimension may be -1. */
export function reshape(x: Tensor, shape: number[]): Tensor {
  expectTensor('reshape', 'x', x);
  expectShape('reshape', 'shape', shape);
  const known = shape.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || (free === 0 && known !== x.size) || (free === 1 && (known === 0 || x.size % known !== 0))) {
    throw new RangeError(`reshape: cannot view shape [${x.shape}] (${x.size} elements) as [${shape}]`);
  }
  return callTensor('aten::reshape', [x, shape]);
}

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  expectTensor('flatten', 'x', x);
  return callTensor('aten::flatten.using_ints', [x, startDim, endDim]);
}

/** Reorders dimensions: permute(x, [0, 2, 3, 1]) is NCHW -> NHWC. */
export function permute(x: Tensor, dims: number[]): Tensor {
  expectTensor('permute', 'x', x);
  const sorted = dims.map((d) => normDim('permute', d, x.rank)).sort((a, b) => a - b);
  if (dims.length !== x.rank || sorted.some((d, i) => d !== i)) {
    throw new RangeError(`permute: dims [${dims}] are not a permutation of 0..${x.rank - 1}`);
  }
  return callTensor('aten::permute', [x, dims]);
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  expectTensor('transpose', 'x', x);
  return callTensor('aten::transpose.int', [x, normDim('transpose', dim0, x.rank), normDim('transpose', dim1, x.rank)]);
}

/** length elements of dim from start (a view). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  expectTensor('narrow', 'x', x);
  const d = normDim('narrow', dim, x.rank);
  expectInt('narrow', 'start', start, 0);
  expectInt('narrow', 'length', length, 0);
  if (start + length > x.shape[d]) {
    throw new RangeError(`narrow: [${start}, ${start + length}) exceeds dim ${d} of size ${x.shape[d]}`);
  }
  return callTensor('aten::narrow', [x, d, start, length]);
}

/** Python-style x[start:end:step] along dim (a view; end is clamped). */
export function slice(x: Tensor, dim: number, start = 0, end?: number, step = 1): Tensor {
  expectTensor('slice', 'x', x);
  expectInt('slice', 'step', step, 1);
  return callTensor('aten::slice.Tensor', [x, normDim('slice', dim, x.rank), start, end ?? null, step]);
}

/** Joins tensors along an existing dimension. */
export function cat(xs: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new RangeError('cat: expected a non-empty array of tensors');
  xs.forEach((x, i) => expectTensor('cat', `xs[${i}]`, x));
  const d = normDim('cat', dim, xs[0].rank);
  const ref = xs[0].shape;
  xs.forEach((x, i) => {
    const s = x.shape;
    if (s.length !== ref.length || s.some((v, j) => j !== d && v !== ref[j])) {
      throw new RangeError(`cat: xs[${i}] has shape [${s}], incompatible with [${ref}] along dim ${d}`);
    }
  });
  return callTensor('aten::cat', [xs, d]);
}

/** Joins equally shaped tensors along a new dimension. */
export function stack(xs: Tensor[], dim = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new RangeError('stack: expected a non-empty array of tensors');
  xs.forEach((x, i) => expectTensor('stack', `xs[${i}]`, x));
  const ref = xs[0].shape.join(',');
  xs.forEach((x, i) => {
    if (x.shape.join(',') !== ref) throw new RangeError(`stack: xs[${i}] has shape [${x.shape}], expected [${ref}]`);
  });
  return callTensor('aten::stack', [xs, dim]);
}

/** Splits dim into pieces of `size` (the last may be smaller). */
export function split(x: Tensor, size: number, dim = 0): Tensor[] {
  expectTensor('split', 'x', x);
  expectInt('split', 'size', size, 1);
  return callTensors('aten::split.Tensor', [x, size, normDim('split', dim, x.rank)]);
}

/**
 * Constant padding. `pad` lists (before, after) pairs from the last dimension
 * backwards, as torch.nn.functional.pad: [left, right, top, bottom] for NCHW.
 */
export function pad(x: Tensor, pads: number[], value = 0): Tensor {
  expectTensor('pad', 'x', x);
  if (!Array.isArray(pads) || pads.length % 2 !== 0 || pads.length / 2 > x.rank || pads.some((p) => !Number.isInteger(p))) {
    throw new RangeError(`pad: 'pads' must be an even-length integer array of at most ${2 * x.rank} entries, got [${pads}]`);
  }
  return callTensor('aten::constant_pad_nd', [x, pads, value]);
}

/** Broadcasts size-1 dimensions to shape (a view); -1 keeps a dimension. */
export function expand(x: Tensor, shape: number[]): Tensor {
  expectTensor('expand', 'x', x);
  const s = x.shape;
  const lead = shape.length - s.length;
  const ok = lead >= 0 && s.every((d, i) => shape[lead + i] === -1 || d === 1 || d === shape[lead + i]);
  if (!ok) throw new RangeError(`expand: cannot expand shape [${s}] to [${shape}]`);
  return callTensor('aten::expand', [x, shape]);
}

export function unsqueeze(x: Tensor, dim: number): Tensor {
  expectTensor('unsqueeze', 'x', x);
  return callTensor('aten::unsqueeze', [x, normDim('unsqueeze', dim, x.rank + 1)]);
}

export function squeeze(x: Tensor, dim: number): Tensor {
  expectTensor('squeeze', 'x', x);
  return callTensor('aten::squeeze.dim', [x, normDim('squeeze', dim, x.rank)]);
}

/** Reverses the order of elements along dims (horizontal flip: dims [3] for NCHW). */
export function flip(x: Tensor, dims: number[]): Tensor {
  expectTensor('flip', 'x', x);
  return callTensor('aten::flip', [x, dims.map((d) => normDim('flip', d, x.rank))]);
}

/** Rows of x at the given int64 indices along dim. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  expectTensor('indexSelect', 'x', x);
  expectTensor('indexSelect', 'index', index);
  return callTensor('aten::index_select', [x, normDim('indexSelect', dim, x.rank), index]);
}

export function contiguous(x: Tensor): Tensor {
  expectTensor('contiguous', 'x', x);
  return callTensor('aten::contiguous', [x, 0]);
}

/** A copy that owns its memory (and stays in the autograd graph). */
export function clone(x: Tensor): Tensor {
  expectTensor('clone', 'x', x);
  return callTensor('aten::clone', [x, null]);
}

/** The same data, cut from the autograd graph. */
export function detach(x: Tensor): Tensor {
  expectTensor('detach', 'x', x);
  return callTensor('aten::detach', [x]);
}

/** Converts element type (a copy unless dtype is already right). */
export function cast(x: Tensor, dtype: DType): Tensor {
  expectTensor('cast', 'x', x);
  return callTensor('aten::to.dtype', [x, scalarTypeOf(dtype), false, false, null]);
}

/** Moves to a device ('cpu', 'cuda', 'cuda:1'). */
export function toDevice(x: Tensor, device: string): Tensor {
  expectTensor('toDevice', 'x', x);
  return callTensor('aten::to.device', [x, checkDevice(device), scalarTypeOf(x.dtype), false, false, null]);
}

/** The slice at `index` along dim, with that dim removed (a view). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  expectTensor('select', 'x', x);
  const d = normDim('select', dim, x.rank);
  expectInt('select', 'index', index);
  if (index < -x.shape[d] || index >= x.shape[d]) throw new RangeError(`select: index ${index} is out of range for dim ${d} of size ${x.shape[d]}`);
  return callTensor('aten::select.int', [x, d, index]);
}

/** Tiles x: repeat(x, [2, 1]) stacks two copies along dim 0 (a copy). */
export function repeat(x: Tensor, times: number[]): Tensor {
  expectTensor('repeat', 'x', x);
  if (times.length < x.rank || times.some((t) => !Number.isInteger(t) || t < 0)) {
    throw new RangeError(`repeat: 'times' must list at least ${x.rank} non-negative integers, got [${times}]`);
  }
  return callTensor('aten::repeat', [x, times]);
}
