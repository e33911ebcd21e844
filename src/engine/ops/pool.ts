/** Pooling over (H, W) of NCHW tensors. */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectRank, pair } from './validate';

export interface Pool2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  ceilMode?: boolean;
}

function windows(op: string, kernel: number | [number, number], o: Pool2dOptions) {
  const k = pair(op, 'kernel', kernel, 1);
  const s = pair(op, 'stride', o.stride ?? k, 1);
  const p = pair(op, 'padding', o.padding ?? 0, 0);
  if (p[0] > k[0] / 2 || p[1] > k[1] / 2) throw new RangeError(`${op}: padding [${p}] must be at most half the kernel [${k}]`);
  return { k, s, p };
}

/**
 * Average pooling. Padding is excluded from the average (count_include_pad
 * off), so border outputs average only real pixels, as in DARTS' ops.
 */
export function avgPool2d(x: Tensor, kernel: number | [number, number], o: Pool2dOptions = {}): Tensor {
  expectRank('avgPool2d', 'x', x, 4);
  const { k, s, p } = windows('avgPool2d', kernel, o);
  return callTensor('aten::avg_pool2d', [x, k, s, p, o.ceilMode ?? false, false, null]);
}

/** Max pooling (padding counts as -inf). */
export function maxPool2d(x: Tensor, kernel: number | [number, number], o: Pool2dOptions = {}): Tensor {
  expectRank('maxPool2d', 'x', x, 4);
  const { k, s, p } = windows('maxPool2d', kernel, o);
  return callTensor('aten::max_pool2d', [x, k, s, p, [1, 1], o.ceilMode ?? false]);
}

/** Average pooling to a fixed output size ([1, 1] is global pooling). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number, number]): Tensor {
  expectRank('adaptiveAvgPool2d', 'x', x, 4);
  return callTensor('aten::adaptive_avg_pool2d', [x, pair('adaptiveAvgPool2d', 'outputSize', outputSize, 1)]);
}
