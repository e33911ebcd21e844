/**
 * Pooling over (H, W) of NCHW tensors. kxk pools at stride 1 with 'same'
 * padding (the cells' 3x3 pools) run the addon's own CPU kernel,
 * adl::same_pools2d (libtorch 1.13 spends 15-130 us a call on the supernet's
 * maps: docs/performance.md#the-pooling-kernel; native/src/pools.cc): the
 * same values and gradients bit for bit, which a test proves against
 * libtorch's avg_pool2d and max_pool2d.
 */
import { callTensor, isTracing } from '../dispatch';
import { Tensor } from '../tensor';
import { cat } from './shape';
import { expectRank, expectTensor, pair } from './validate';

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
  if (routesToOwnPools(x, k, s, p, o)) return callTensor('adl::same_pools2d', [[x], [KINDS.avg], [0], k[0]]);
  return callTensor('aten::avg_pool2d', [x, k, s, p, o.ceilMode ?? false, false, null]);
}

/** Max pooling (padding counts as -inf). */
export function maxPool2d(x: Tensor, kernel: number | [number, number], o: Pool2dOptions = {}): Tensor {
  expectRank('maxPool2d', 'x', x, 4);
  const { k, s, p } = windows('maxPool2d', kernel, o);
  if (routesToOwnPools(x, k, s, p, o)) return callTensor('adl::same_pools2d', [[x], [KINDS.max], [0], k[0]]);
  return callTensor('aten::max_pool2d', [x, k, s, p, [1, 1], o.ceilMode ?? false]);
}

/** Average pooling to a fixed output size ([1, 1] is global pooling). */
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | [number, number]): Tensor {
  expectRank('adaptiveAvgPool2d', 'x', x, 4);
  return callTensor('aten::adaptive_avg_pool2d', [x, pair('adaptiveAvgPool2d', 'outputSize', outputSize, 1)]);
}

const KINDS = { avg: 0, max: 1 } as const;
/** The largest kernel the own kernel takes (native/src/pools.cc). */
const MAX_OWN_KERNEL = 255;
export type PoolKind = keyof typeof KINDS;

let routing = true;
/** Turns the routing of stride-1 'same' pools to the own kernel off (benchmarks, equivalence tests). */
export function setPoolRouting(on: boolean): void {
  routing = on;
}

/** Whether adl::same_pools2d serves x with an odd kernel k: routing on, CPU float, pixels, k at most MAX_OWN_KERNEL, not traced. */
function ownPoolsServe(x: Tensor, k: number): boolean {
  return routing && x.device === 'cpu' && (x.dtype === 'float32' || x.dtype === 'float64') && k <= MAX_OWN_KERNEL &&
    x.shape[2] > 0 && x.shape[3] > 0 && !isTracing();
}

/** Whether a pool call runs on adl::same_pools2d: square odd kernel, stride 1, padding k / 2, and ownPoolsServe. */
function routesToOwnPools(x: Tensor, k: number[], s: number[], p: number[], o: Pool2dOptions): boolean {
  return k[0] === k[1] && k[0] % 2 === 1 && s[0] === 1 && s[1] === 1 && p[0] === (k[0] - 1) / 2 && p[1] === p[0] && !o.ceilMode &&
    ownPoolsServe(x, k[0]);
}

/**
 * x pooled by each kind (kxk, k odd, stride 1, 'same' padding; 'avg' over the real pixels only, 'max'),
 * concatenated in channels in kinds order: (B, K*C, H, W). The same as avgPool2d / maxPool2d per kind and a cat,
 * bit for bit, values and gradients, in one call and one backward node on the CPU: the op's backward hands autograd
 * one gradient per kind, last kind first, so that x's gradient adds them in the order it adds those of separate
 * pooling nodes made in kinds order.
 */
export function samePools2d(x: Tensor, kinds: PoolKind[], kernel = 3): Tensor {
  expectTensor('samePools2d', 'x', x);
  expectRank('samePools2d', 'x', x, 4);
  if (!Array.isArray(kinds) || kinds.length === 0) throw new RangeError('samePools2d: expected a non-empty array of kinds');
  kinds.forEach((kind, i) => {
    if (!Object.hasOwn(KINDS, kind)) throw new RangeError(`samePools2d: kinds[${i}] must be one of ${Object.keys(KINDS).join(', ')}, got '${kind}'`);
  });
  if (!Number.isInteger(kernel) || kernel < 1 || kernel % 2 === 0) throw new RangeError(`samePools2d: kernel must be an odd whole number, got ${kernel}`);
  if (ownPoolsServe(x, kernel)) {
    const last = kinds.length - 1;
    return callTensor('adl::same_pools2d', [kinds.map(() => x), kinds.map((_, i) => KINDS[kinds[last - i]]), kinds.map((_, i) => last - i), kernel]);
  }
  const o = { stride: 1, padding: (kernel - 1) / 2 };
  return cat(kinds.map((kind) => (kind === 'avg' ? avgPool2d(x, kernel, o) : maxPool2d(x, kernel, o))), 1);
}
