/**
 * Batch normalisation over (B, H, W) per channel. In training on the CPU it
 * runs the addon's adl::batch_norm_train (native/src/batch_norm.cc): libtorch's
 * batch norm with its per-channel statistics summed several channels at a
 * time, the same values, running statistics and gradients bit for bit, which
 * a test proves against aten::batch_norm.
 */
import { callTensor, isTracing } from '../dispatch';
import { Tensor } from '../tensor';
import { expectRank, expectTensor } from './validate';

export interface BatchNormOptions {
  weight?: Tensor | null;
  bias?: Tensor | null;
  runningMean?: Tensor | null;
  runningVar?: Tensor | null;
  /** Batch statistics (and running-stat updates) when true; running stats when false. */
  training: boolean;
  /** PyTorch convention: new = (1 - momentum) * old + momentum * batch. */
  momentum?: number;
  eps?: number;
}

/**
 * (x - mean) / sqrt(var + eps) * weight + bias for x (B, C, ...). In training
 * the running statistics are updated in place (unbiased variance), as torch.
 */
export function batchNorm(x: Tensor, o: BatchNormOptions): Tensor {
  expectRank('batchNorm', 'x', x, 2, 3, 4, 5);
  const c = x.shape[1];
  for (const name of ['weight', 'bias', 'runningMean', 'runningVar'] as const) {
    const t = o[name];
    if (t === undefined || t === null) continue;
    expectTensor('batchNorm', name, t);
    if (t.rank !== 1 || t.shape[0] !== c) {
      throw new RangeError(`batchNorm: '${name}' must have shape [${c}] for input [${x.shape}], got [${t.shape}]`);
    }
  }
  if (!o.training && (!o.runningMean || !o.runningVar)) {
    throw new Error('batchNorm: evaluation mode needs runningMean and runningVar');
  }
  const momentum = o.momentum ?? 0.1;
  const eps = o.eps ?? 1e-5;
  if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`batchNorm: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0)) throw new RangeError(`batchNorm: eps must be > 0, got ${eps}`);
  if (o.training && routing && x.device === 'cpu' && !isTracing() && o.runningMean && o.runningVar) {
    return callTensor('adl::batch_norm_train', [x, o.weight ?? null, o.bias ?? null, o.runningMean, o.runningVar, momentum, eps]);
  }
  return callTensor('aten::batch_norm', [
    x, o.weight ?? null, o.bias ?? null, o.runningMean ?? null, o.runningVar ?? null,
    o.training, momentum, eps, true,
  ]);
}

let routing = true;
/** Turns the routing of training-mode CPU batch norms to adl::batch_norm_train off (benchmarks, equivalence tests). */
export function setBatchNormRouting(on: boolean): void {
  routing = on;
}
