/**
 * The search-time op kernels shared by the fused cell and the reference one,
 * so that both compute exactly the same thing: pools, depthwise convolutions,
 * and atrous convolutions ('same' padding; taps that only read padding on
 * small maps are skipped: engine/ops/same_conv.ts).
 */
import * as T from '../engine';
import { ATROUS_RATE, KERNEL, AtrousOp, OP_TABLE, POOL_OPS, PoolOp } from '../arch/primitives';

/** 3x3 pools, stride 1, padding 1 (shape-preserving). */
export const POOLS: Readonly<Record<PoolOp, (x: T.Tensor) => T.Tensor>> = Object.freeze(Object.fromEntries(POOL_OPS.map((op) => [op,
  OP_TABLE[op].pool === 'avg' ? (x: T.Tensor) => T.avgPool2d(x, 3, { stride: 1, padding: 1 }) : (x: T.Tensor) => T.maxPool2d(x, 3, { stride: 1, padding: 1 })])) as Record<PoolOp, (x: T.Tensor) => T.Tensor>);

/** Depthwise kxk convolution, 'same' padding; w: (channels, 1, k, k). */
export function depthwise(x: T.Tensor, w: T.Tensor): T.Tensor {
  return T.sameConv2d(x, w, { groups: w.shape[0] });
}

/** Regular kxk convolution at the atrous rate, 'same' padding (groups > 1: one per untied arrow). */
export function atrousConv(x: T.Tensor, w: T.Tensor, op: AtrousOp, groups = 1): T.Tensor {
  if (w.shape[3] !== KERNEL[op]) throw new RangeError(`atrousConv: ${op} needs a ${KERNEL[op]}x${KERNEL[op]} kernel, got [${w.shape}]`);
  return T.sameConv2d(x, w, { dilation: ATROUS_RATE, groups });
}
