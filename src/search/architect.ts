/**
 * The bi-level optimisation of Sec. 4.2, first order (DARTS' approximation):
 * a weight step on a trainA batch (grad of w only), then an architecture step
 * on a trainB batch (grad of alpha and beta only; the weights' gradients are
 * not even computed, which saves a third of that backward pass).
 */
import * as T from '../engine';
import { Batch } from '../data/pipeline';
import { IGNORE_INDEX } from '../data/dataset';
import { clipGradNorm } from '../run/grad';
import { CellImpl, Supernet } from './supernet';

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

const partCaches = new WeakMap<Supernet, Map<string, number[]>>();

/** Parameter indices of each recompute segment (requires the optimiser over net.weights.parameters() in order). */
function partIndexCache(net: Supernet): Map<string, number[]> {
  let m = partCaches.get(net);
  if (!m) {
    const parts = ['head.', 'stem.', ...Array.from({ length: net.cfg.layers }, (_, l) => `layer${l}.`)];
    m = new Map(parts.map((p) => [p, net.partIndices(p)]));
    const covered = [...m.values()].reduce((s, v) => s + v.length, 0);
    if (covered !== net.weights.parameters().length) throw new Error('weightStep: recompute segments do not cover every weight');
    partCaches.set(net, m);
  }
  return m;
}

/** Loss, with gradients accumulated into .grad of what requires grad. */
function lossAndGrad(net: Supernet, batch: Batch, recompute: boolean, onSegment?: (part: string) => void, impl: CellImpl = 'batched'): number {
  if (recompute) return net.lossAndGradRecompute(batch.images, (logits) => segmentationLoss(logits, batch.labels), onSegment);
  const loss = segmentationLoss(net.forward(batch.images, true, impl), batch.labels);
  T.backward(loss);
  return loss.item();
}

/**
 * 1. Update w by grad_w L_trainA(w, alpha, beta). Returns the loss.
 * recompute: recompute activations layer by layer in the backward pass (less memory, one more forward).
 */
export function weightStep(net: Supernet, opt: T.Optimizer, batch: Batch, gradClip: number, recompute = false,
  impl: CellImpl = 'batched'): number {
  return withFrozen(net.archParameters(), () => T.tidy(() => {
    opt.zeroGrad();
    if (recompute && gradClip === 0) {
      // Each part's update as soon as its gradients are complete, then its gradients are freed:
      // the same step as one update over all weights, without ever holding all gradients.
      const parts = partIndexCache(net);
      return lossAndGrad(net, batch, true, (part) => {
        const idx = parts.get(part) ?? [];
        opt.step(idx);
        opt.zeroGrad(idx);
      });
    }
    const loss = lossAndGrad(net, batch, recompute, undefined, impl);
    if (gradClip > 0) clipGradNorm(opt.params, gradClip);
    opt.step();
    opt.zeroGrad(); // free the weight gradients now: the architecture step does not need them
    return loss;
  }));
}

/** 2. Update alpha, beta by grad_{alpha,beta} L_trainB(w, alpha, beta). Returns the loss. */
export function archStep(net: Supernet, opt: T.Optimizer, batch: Batch, recompute = false, impl: CellImpl = 'batched'): number {
  return T.tidy(() => {
    opt.zeroGrad();
    if (!recompute) {
      // grad() w.r.t. alpha and beta only: the weights' gradient kernels never run.
      const loss = segmentationLoss(net.forward(batch.images, true, impl), batch.labels);
      const arch = net.archParameters();
      T.grad(loss, arch).forEach((g, i) => (arch[i].grad = g));
      opt.step();
      return loss.item();
    }
    const loss = withFrozen(net.weights.parameters(), () => lossAndGrad(net, batch, true));
    opt.step();
    return loss;
  });
}
