/**
 * 1x1 convolution (stride 1, no padding, no bias, groups) through the addon's
 * adl::pointwise_conv2d: on the CPU its own forward and gradients (libtorch
 * 1.13 spends tens of microseconds a call setting up oneDNN for the supernet's
 * small maps: docs/performance.md#the-pointwise-kernel; native/src/pointwise.cc),
 * elsewhere libtorch's. conv2d is the reference; a test proves them equal in
 * values and gradients. conv2d routes small CPU 1x1 convolutions here.
 */
import { callTensor, isTracing } from '../dispatch';
import { Tensor } from '../tensor';
import { expectInt, expectRank } from './validate';

/** x (B, G*K, H, W) * weight (G*N, K, 1, 1) -> (B, G*N, H, W); not twice differentiable. */
export function pointwiseConv2d(x: Tensor, weight: Tensor, groups = 1): Tensor {
  expectRank('pointwiseConv2d', 'x', x, 4);
  expectRank('pointwiseConv2d', 'weight', weight, 4);
  expectInt('pointwiseConv2d', 'groups', groups, 1);
  const [n, k, kh, kw] = weight.shape;
  if (kh !== 1 || kw !== 1 || n % groups !== 0 || x.shape[1] !== k * groups) {
    throw new RangeError(`pointwiseConv2d: weight [${weight.shape}] must be (G*N, ${x.shape[1] / groups}, 1, 1) for input [${x.shape}] and groups=${groups}`);
  }
  return callTensor('adl::pointwise_conv2d', [x, weight, groups]);
}

/**
 * Multiply-adds up to which conv2d routes a CPU 1x1 convolution here: the own
 * kernel is 1.2-7x faster up to 1e6 (set-up dominates libtorch's calls), even
 * at 1.3e7, and 1.8-2.7x slower from 5e7 on, where oneDNN's blocked GEMM wins
 * (`npm run bench -- pointwise`, 2 threads).
 */
export const POINTWISE_MAX_MACS = 2e6;

let routing = true;
/** Turns conv2d's routing to pointwiseConv2d off (benchmarks, equivalence tests). */
export function setPointwiseRouting(on: boolean): void {
  routing = on;
}

/** Whether conv2d should run this call as pointwiseConv2d: a small 1x1, stride 1, unpadded, unbiased CPU convolution, not traced. */
export function routesToPointwise(x: Tensor, weight: Tensor, groups: number, stride: number[], padding: number[], bias: boolean): boolean {
  if (!routing || bias || weight.shape[2] !== 1 || weight.shape[3] !== 1) return false;
  if (stride[0] !== 1 || stride[1] !== 1 || padding[0] !== 0 || padding[1] !== 0 || isTracing() || x.device !== 'cpu') return false;
  const [b, , h, w] = x.shape;
  return b * weight.shape[0] * weight.shape[1] * h * w <= POINTWISE_MAX_MACS;
}
