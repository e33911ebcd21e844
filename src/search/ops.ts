/**
 * The search-time op kernels shared by the fused cell and the reference one,
 * so that both compute exactly the same thing: pools, depthwise convolutions,
 * and atrous convolutions.
 */
import * as T from '../engine';
import { ATROUS_RATE, KERNEL, AtrousOp, PoolOp } from '../arch/primitives';

/** 3x3 pools, stride 1, padding 1 (shape-preserving). */
export const POOLS: Readonly<Record<PoolOp, (x: T.Tensor) => T.Tensor>> = Object.freeze({
  avgpool3x3: (x: T.Tensor) => T.avgPool2d(x, 3, { stride: 1, padding: 1 }),
  maxpool3x3: (x: T.Tensor) => T.maxPool2d(x, 3, { stride: 1, padding: 1 }),
});

/** Depthwise kxk convolution, 'same' padding; w: (channels, 1, k, k). */
export function depthwise(x: T.Tensor, w: T.Tensor): T.Tensor {
  return T.conv2d(x, w, { padding: (w.shape[3] - 1) / 2, groups: w.shape[0] });
}

/** Regular kxk convolution at the atrous rate, 'same' padding (groups > 1: one per untied arrow). */
export function atrousConv(x: T.Tensor, w: T.Tensor, op: AtrousOp, groups = 1): T.Tensor {
  return T.conv2d(x, w, { padding: (ATROUS_RATE * (KERNEL[op] - 1)) / 2, dilation: ATROUS_RATE, groups });
}
