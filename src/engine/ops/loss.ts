/** Losses. */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectRank, expectTensor } from './validate';

export type Reduction = 'none' | 'mean' | 'sum';
const REDUCTION: Record<Reduction, number> = { none: 0, mean: 1, sum: 2 };

export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (segmentation's 255). */
  ignoreIndex?: number;
  /** Per-class weights, shape (C). */
  weight?: Tensor | null;
  reduction?: Reduction;
  labelSmoothing?: number;
}

/**
 * -log softmax(logits)[target] for logits (B, C, ...) and int64 targets
 * (B, ...). 'mean' divides by the summed weights of non-ignored targets.
 */
export function crossEntropy(logits: Tensor, target: Tensor, o: CrossEntropyOptions = {}): Tensor {
  expectRank('crossEntropy', 'logits', logits, 2, 3, 4);
  expectTensor('crossEntropy', 'target', target);
  if (target.dtype !== 'int64') throw new TypeError(`crossEntropy: 'target' must be int64 class ids, got ${target.dtype}`);
  const ls = logits.shape;
  const ts = target.shape;
  if (ts.length !== ls.length - 1 || ts[0] !== ls[0] || ts.slice(1).some((d, i) => d !== ls[i + 2])) {
    throw new RangeError(`crossEntropy: target shape [${ts}] does not match logits [${ls}] (expected [${[ls[0], ...ls.slice(2)]}])`);
  }
  if (o.weight) {
    expectTensor('crossEntropy', 'weight', o.weight);
    if (o.weight.rank !== 1 || o.weight.shape[0] !== ls[1]) {
      throw new RangeError(`crossEntropy: 'weight' must have shape [${ls[1]}], got [${o.weight.shape}]`);
    }
  }
  const reduction = o.reduction ?? 'mean';
  if (!(reduction in REDUCTION)) throw new RangeError(`crossEntropy: reduction must be none, mean or sum, got '${reduction}'`);
  return callTensor('aten::cross_entropy_loss', [
    logits, target, o.weight ?? null, REDUCTION[reduction], o.ignoreIndex ?? -100, o.labelSmoothing ?? 0,
  ]);
}
