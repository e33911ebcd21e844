/**
 * The search ops one by one, as DARTS' operations.py: a factory per
 * family (OP_TABLE, arch/primitives.ts). Every op of an edge has its
 * own weights; batch norms are affine-free (DARTS' search ops) and keep one
 * set of running statistics per arrow, as the fused cell does.
 */
import * as T from '../../engine';
import { AtrousOp, CELL_OPS, CellOpName, KERNEL, OP_TABLE, PoolOp, SepOp } from '../../arch/primitives';
import { BatchNorm, BNConfig } from '../../nn/layers';
import { convInit, ParameterStore } from '../../nn/params';
import type { Pass } from '../cell_family';
import { atrousConv, depthwise, POOLS } from '../op_kernels';

/** One op on one edge. x: (B, C, H, W) of arrow `arrow` -> (B, C, H, W). */
export interface SearchOp {
  forward(x: T.Tensor, arrow: number, pass: Pass): T.Tensor;
}

/** Named weights of an op, for the weight map. */
export interface OpWeights {
  [name: string]: T.Tensor;
}

type OpFactory = (store: ParameterStore, name: string, C: number, arrows: number, bn: BNConfig) => SearchOp & { weights: OpWeights };

const perArrowBN = (store: ParameterStore, name: string, C: number, arrows: number, bn: BNConfig) =>
  Array.from({ length: arrows }, (_, a) => new BatchNorm(store, `${name}.arrow${a}`, C, bn, false));

/** Two stacked ReLU -> depthwise kxk -> pointwise 1x1 -> BN. */
function separable(op: SepOp): OpFactory {
  return (store, name, C, arrows, bn) => {
    const k = KERNEL[op];
    const w = {
      dw1: store.param(`${name}.dw1`, [C, 1, k, k], convInit(k * k)), pw1: store.param(`${name}.pw1`, [C, C, 1, 1], convInit(C)),
      dw2: store.param(`${name}.dw2`, [C, 1, k, k], convInit(k * k)), pw2: store.param(`${name}.pw2`, [C, C, 1, 1], convInit(C)),
    };
    const bn1 = perArrowBN(store, `${name}.bn1`, C, arrows, bn);
    const bn2 = perArrowBN(store, `${name}.bn2`, C, arrows, bn);
    return {
      weights: w,
      forward(x, a, pass) {
        let y = T.conv2d(depthwise(T.relu(x), w.dw1), w.pw1);
        y = T.relu(bn1[a].forward(y, pass.training, pass.updateStats));
        y = T.conv2d(depthwise(y, w.dw2), w.pw2);
        return bn2[a].forward(y, pass.training, pass.updateStats);
      },
    };
  };
}

/** ReLU -> regular kxk conv at rate 2 -> BN. */
function atrous(op: AtrousOp): OpFactory {
  return (store, name, C, arrows, bn) => {
    const k = KERNEL[op];
    const w = { conv: store.param(`${name}.conv`, [C, C, k, k], convInit(k * k * C)) };
    const norm = perArrowBN(store, `${name}.bn`, C, arrows, bn);
    return { weights: w, forward: (x, a, pass) => norm[a].forward(atrousConv(T.relu(x), w.conv, op), pass.training, pass.updateStats) };
  };
}

/** 3x3 pool, stride 1, then an affine-free BN (DARTS). */
function pool(op: PoolOp): OpFactory {
  return (store, name, C, arrows, bn) => {
    const norm = perArrowBN(store, `${name}.bn`, C, arrows, bn);
    return { weights: {}, forward: (x, a, pass) => norm[a].forward(POOLS[op](x), pass.training, pass.updateStats) };
  };
}

const identity: OpFactory = () => ({ weights: {}, forward: (x) => x });

/** Every primitive but zero (which contributes nothing; its alpha only enters the softmax). */
export const SEARCH_OPS: Readonly<Record<CellOpName, OpFactory>> = Object.freeze(Object.fromEntries(CELL_OPS.map((op) => [op, searchOp(op)])) as Record<CellOpName, OpFactory>);

/** The factory of an op, from its family in OP_TABLE. */
function searchOp(op: CellOpName): OpFactory {
  switch (OP_TABLE[op].family) {
    case 'sep': return separable(op as SepOp);
    case 'atrous': return atrous(op as AtrousOp);
    case 'pool': return pool(op as PoolOp);
    case 'skip': return identity;
  }
}
