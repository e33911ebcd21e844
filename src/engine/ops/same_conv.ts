/**
 * 'Same' convolutions (padding d*(k-1)/2, stride 1) on maps smaller than
 * their kernel's reach, computed without the taps that only ever read padding.
 * At a 2x2 map a 5x5 kernel's outer ring, and at a 1x1 map all but its centre,
 * multiply zeros for every output position: dropping them changes no value and
 * no gradient (theirs is exactly 0), and libtorch's kernels for the smaller
 * kernel are much faster (docs/performance.md#taps-that-only-read-padding). A 1x1 depthwise kernel is a
 * per-channel scale; other depthwise kernels on the CPU go through
 * depthwiseConv2d (the addon's own kernels; ./depthwise.ts). `conv2d` with the full padding is the reference; a test
 * proves them equal in values and gradients. While ops are traced (ONNX
 * export, Multi-Adds counting) the full kernel runs: a graph must not bake in
 * the traced size, and cost counts every tap by the paper's convention.
 */
import { isTracing } from '../dispatch';
import { Tensor } from '../tensor';
import { conv2d } from './conv';
import { checkTiling, depthwiseConv2d, mixedDepthwiseConv2d, Tiling } from './depthwise';
import { mul } from './elementwise';
import { cat, expand, narrow, reshape, split } from './shape';
import { expectRank } from './validate';

let shortcuts = true;
/** Turns the shortcut off (every call runs the full kernel), for benchmarks and equivalence tests. */
export function setSameConvShortcuts(on: boolean): void {
  shortcuts = on;
}

/** Taps kept either side of the centre on an axis of length n, for a kernel of k taps at dilation d. */
export function keptReach(n: number, k: number, d: number): number {
  return Math.min((k - 1) / 2, Math.floor((n - 1) / d));
}

export interface SameConvOptions {
  dilation?: number;
  groups?: number;
}

/** The taps kept either side of the centre on each axis: all of them while ops are traced or the shortcut is off. */
function reachOf(x: Tensor, weight: Tensor, d: number): { rh: number; rw: number; full: boolean } {
  const [, , kh, kw] = weight.shape;
  if (kh % 2 === 0 || kw % 2 === 0) throw new RangeError(`sameConv2d: kernel ${kh}x${kw} has no centre (odd sizes only)`);
  const [rh, rw] = isTracing() || !shortcuts ? [(kh - 1) / 2, (kw - 1) / 2] : [keptReach(x.shape[2], kh, d), keptReach(x.shape[3], kw, d)];
  return { rh, rw, full: rh === (kh - 1) / 2 && rw === (kw - 1) / 2 };
}

/** The centre (2 rh + 1, 2 rw + 1) taps of weight (a view; the weight itself when nothing is cut). */
function cutKernel(weight: Tensor, rh: number, rw: number, full: boolean): Tensor {
  const [, , kh, kw] = weight.shape;
  return full ? weight : narrow(narrow(weight, 2, (kh - 1) / 2 - rh, 2 * rh + 1), 3, (kw - 1) / 2 - rw, 2 * rw + 1);
}

/** x (B, Cin, H, W) * weight (Cout, Cin / groups, k, k), k odd, stride 1, 'same' padding -> (B, Cout, H, W). */
export function sameConv2d(x: Tensor, weight: Tensor, o: SameConvOptions = {}): Tensor {
  const d = o.dilation ?? 1;
  const groups = o.groups ?? 1;
  const { rh, rw, full } = reachOf(x, weight, d);
  const w = cutKernel(weight, rh, rw, full);
  const [cout, cinPerGroup] = weight.shape;
  const depthwise = cinPerGroup === 1 && cout === groups && x.shape[1] === groups;
  if (depthwise && !full && rh === 0 && rw === 0) return mul(x, reshape(w, [1, cout, 1, 1])); // a scale per channel
  // CPU depthwise kernels run the addon's own forward and gradients (bench depthwise: faster than libtorch's at these sizes).
  // An axis left with one tap has no spacing to dilate: dilation 1 there keeps libtorch off its
  // slow dilated path (a 1x1 kernel at dilation 2 runs several times slower than at 1).
  const dilation: [number, number] = full ? [d, d] : [rh === 0 ? 1 : d, rw === 0 ? 1 : d];
  if (depthwise && shortcuts && !isTracing() && x.device === 'cpu') return depthwiseConv2d(x, w, { padding: [rh * d, rw * d], dilation });
  return conv2d(x, w, { padding: [rh * d, rw * d], dilation, groups });
}

/**
 * Depthwise 'same' convolutions (dilation 1) with several kernels at once
 * (MixConv): weight i, (Cg, 1, k_i, k_i), convolves x's channels
 * [i Cg, (i + 1) Cg), or all of x when x has Cg channels; the outputs are
 * concatenated in channels, (B, K Cg, H, W). With `tiling`, every weight reads
 * x tiled to Cg channels (each block of channels repeated in place: the fused
 * cell's edges reading one state). On the CPU one call of the addon's
 * mixed_depthwise_conv2d (cut kernels included; a tiled x is read in place);
 * elsewhere, while traced, or where a cut leaves a scale, x tiled by expand,
 * each weight's sameConv2d and a cat: bit for bit the same values and
 * gradients (test/engine/mixed_depthwise.test.ts).
 */
export function sameDepthwiseMixed(x: Tensor, weights: Tensor[], tiling?: Tiling): Tensor {
  const cg = weights[0].shape[0];
  checkTiling('sameDepthwiseMixed', x, cg, tiling); // both paths accept the same tilings
  const reach = weights.map((w) => reachOf(x, w, 1));
  if (!shortcuts || isTracing() || x.device !== 'cpu' || reach.some((r) => !r.full && r.rh === 0 && r.rw === 0)) {
    const xs = tiling && tiling.repeats > 1 ? tiled(x, tiling) : x;
    const parts = xs.shape[1] === cg ? weights.map(() => xs) : split(xs, cg, 1); // one split: one backward node
    return cat(weights.map((w, i) => sameConv2d(parts[i], w, { groups: cg })), 1);
  }
  return mixedDepthwiseConv2d(x, weights.map((w, i) => cutKernel(w, reach[i].rh, reach[i].rw, reach[i].full)), { tiling });
}

/** x (B, G * block, H, W) with each block repeated in place: (B, G * repeats * block, H, W), a copy (x itself when repeats is 1). */
export function tiled(x: Tensor, tiling: Tiling): Tensor {
  expectRank('tiled', 'x', x, 4);
  const { repeats, block } = checkTiling('tiled', x, x.shape[1] * tiling.repeats, tiling);
  if (repeats === 1) return x;
  const [B, C, H, W] = x.shape;
  const G = C / block;
  return reshape(expand(reshape(x, [B, G, 1, block, H, W]), [B, G, repeats, block, H, W]), [B, G * repeats * block, H, W]);
}
