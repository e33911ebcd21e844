/** Gradient utilities over parameter lists. */
import * as T from '../engine';
import { callInPlace, callTensors } from '../engine/dispatch';

/** Scales gradients so that their global L2 norm is at most maxNorm (torch's clip_grad_norm_). Returns the norm before. */
export function clipGradNorm(params: T.Tensor[], maxNorm: number): number {
  return T.noGrad(() => T.tidy(() => {
    const grads = params.map((p) => p.grad).filter((g): g is T.Tensor => g !== null);
    if (grads.length === 0) return 0;
    const norms = callTensors('aten::_foreach_norm.Scalar', [grads, 2]);
    const total = Math.sqrt(T.sum(T.square(T.stack(norms))).item());
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) callInPlace('aten::_foreach_mul_.Scalar', [grads, coef]);
    return total;
  }));
}
