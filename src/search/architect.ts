/**
 * The bi-level optimisation of Sec. 4.2, first order (DARTS' approximation):
 * a weight step on a trainA batch (grad of w only), then an architecture step
 * on a trainB batch (grad of alpha and beta only; the weights' gradients are
 * not even computed, which saves a third of that backward pass).
 * In a data-parallel job (`par`) both steps average their gradients, and the
 * returned loss, over the ranks before the optimiser steps.
 */
import * as T from '../engine';
import { Batch } from '../data/pipeline';
import { IGNORE_INDEX } from '../data/dataset';
import { clipGradNorm } from '../run/grad';
import { averageGradients, meanOverRanks, OverlappedAverage, Parallel } from '../run/ddp';
import { Supernet } from './supernet';

export function segmentationLoss(logits: T.Tensor, labels: T.Tensor): T.Tensor {
  return T.crossEntropy(logits, labels, { ignoreIndex: IGNORE_INDEX });
}

/** Runs fn with requires-grad switched off on `frozen` (so no graph, and no gradient, reaches them). */
function withFrozen<R>(frozen: T.Tensor[], fn: () => R): R {
  frozen.forEach((p) => p.setRequiresGrad(false));
  try {
    return fn();
  } finally {
    frozen.forEach((p) => p.setRequiresGrad(true));
  }
}

/** The segment-wise update needs the optimiser over exactly net.weights.parameters(), in order. */
function checkOptimizerOverWeights(net: Supernet, opt: T.Optimizer): void {
  const w = net.weights.parameters();
  if (opt.params.length !== w.length || opt.params.some((p, i) => p !== w[i])) {
    throw new Error('weightStep: the optimiser must be built over net.weights.parameters(), in order');
  }
}

/**
 * 1. Update w by grad_w L_trainA(w, alpha, beta). Returns the loss.
 * With recompute and no clipping, each segment's weights are updated as soon
 * as their gradients are complete, then their gradients are freed: the same
 * step as one update over all weights, without ever holding all gradients.
 * In a job, a segment's all-reduce runs while the next segment back-propagates
 * (OverlappedAverage); with clipping (which needs the global norm of the
 * averaged gradients) or without recompute, all gradients are averaged after
 * the backward pass, then clipped, then stepped.
 */
export function weightStep(net: Supernet, opt: T.Optimizer, batch: Batch, gradClip: number, par?: Parallel): number {
  const loss = (logits: T.Tensor) => segmentationLoss(logits, batch.labels);
  return withFrozen(net.archParameters(), () => T.tidy(() => {
    opt.zeroGrad();
    if (net.recompute && gradClip === 0) {
      checkOptimizerOverWeights(net, opt);
      const segments = new OverlappedAverage(par, opt.params, (indices) => {
        opt.step(indices);
        opt.zeroGrad(indices);
      });
      const value = net.lossAndGrad(batch.images, loss, (indices) => segments.push(indices));
      segments.flush();
      return meanOverRanks(par, value);
    }
    const value = averageGradients(par, opt.params, net.lossAndGrad(batch.images, loss));
    if (gradClip > 0) clipGradNorm(opt.params, gradClip);
    opt.step();
    opt.zeroGrad(); // free the weight gradients now: the architecture step does not need them
    return value;
  }));
}

/**
 * 2. Update alpha, beta by grad_{alpha,beta} L_trainB(w, alpha, beta). Returns the loss.
 * addGrad (a budget's penalty, budget/search_budget.ts) adds its own gradient to alpha and beta before the step
 * (after the averaging over ranks: every rank computes the same penalty from the same alpha and beta).
 */
export function archStep(net: Supernet, opt: T.Optimizer, batch: Batch, par?: Parallel, addGrad?: (net: Supernet) => void): number {
  return T.tidy(() => {
    opt.zeroGrad();
    if (!net.recompute) {
      // grad() w.r.t. alpha and beta only: the weights' gradient kernels never run.
      const loss = segmentationLoss(net.forward(batch.images, true), batch.labels);
      const arch = net.archParameters();
      T.grad(loss, arch).forEach((g, i) => (arch[i].grad = g));
      const mean = averageGradients(par, arch, loss.item());
      addGrad?.(net);
      opt.step();
      return mean;
    }
    const local = withFrozen(net.weights.parameters(), () => net.lossAndGrad(batch.images, (logits) => segmentationLoss(logits, batch.labels)));
    const loss = averageGradients(par, net.archParameters(), local);
    addGrad?.(net);
    opt.step();
    return loss;
  });
}
