/**
 * The bi-level optimisation of Sec. 4.2, first order (DARTS' approximation):
 * a weight step on a trainA batch (grad of w only), then an architecture step
 * on a trainB batch (grad of alpha and beta only; the weights' gradients are
 * not even computed, which saves a third of that backward pass).
 */
import * as T from '../engine';
import { Batch } from '../data/pipeline';
import { IGNORE_INDEX } from '../data/dataset';
import { clipGradNorm } from '../train/grad';
import { Supernet } from './supernet';

export function segmentationLoss(logits: T.Tensor, labels: T.Tensor): T.Tensor {
  return T.crossEntropy(logits, labels, { ignoreIndex: IGNORE_INDEX });
}

/** 1. Update w by grad_w L_trainA(w, alpha, beta). Returns the loss. */
export function weightStep(net: Supernet, opt: T.Optimizer, batch: Batch, gradClip: number): number {
  const arch = net.archParameters();
  arch.forEach((p) => p.setRequiresGrad(false)); // no graph through alpha, beta
  try {
    return T.tidy(() => {
      opt.zeroGrad();
      const loss = segmentationLoss(net.forward(batch.images, true), batch.labels);
      T.backward(loss);
      if (gradClip > 0) clipGradNorm(opt.params, gradClip);
      opt.step();
      return loss.item();
    });
  } finally {
    arch.forEach((p) => p.setRequiresGrad(true));
  }
}

/** 2. Update alpha, beta by grad_{alpha,beta} L_trainB(w, alpha, beta). Returns the loss. */
export function archStep(net: Supernet, opt: T.Optimizer, batch: Batch): number {
  return T.tidy(() => {
    const arch = net.archParameters();
    const loss = segmentationLoss(net.forward(batch.images, true), batch.labels);
    const grads = T.grad(loss, arch);
    arch.forEach((p, i) => (p.grad = grads[i]));
    opt.step();
    return loss.item();
  });
}
