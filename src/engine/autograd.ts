/** Reverse-mode differentiation over libtorch's autograd graph. */
import { native } from './native';
import { Tensor } from './tensor';
import { expectTensor } from './ops/validate';

export interface BackwardOptions {
  /** d(loss)/d(output) seeds; default ones for scalar outputs. */
  grads?: (Tensor | null)[];
  retainGraph?: boolean;
  createGraph?: boolean;
}

/** Accumulates d(outputs)/d(leaf) into every leaf's .grad. */
export function backward(outputs: Tensor | Tensor[], o: BackwardOptions = {}): void {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  outs.forEach((t, i) => expectTensor('backward', `outputs[${i}]`, t));
  native.backward(outs.map((t) => t.id), o.grads ? o.grads.map((g) => (g ? g.id : null)) : null,
    o.retainGraph ?? o.createGraph ?? false, o.createGraph ?? false);
}

export interface GradOptions extends BackwardOptions {
  /** Return null for inputs the outputs do not depend on (else an error). */
  allowUnused?: boolean;
}

/** d(outputs)/d(inputs), returned rather than accumulated (torch.autograd.grad). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  outs.forEach((t, i) => expectTensor('grad', `outputs[${i}]`, t));
  inputs.forEach((t, i) => expectTensor('grad', `inputs[${i}]`, t));
  const hs = native.gradOf(outs.map((t) => t.id), inputs.map((t) => t.id),
    o.grads ? o.grads.map((g) => (g ? g.id : null)) : null,
    o.retainGraph ?? o.createGraph ?? false, o.createGraph ?? false, o.allowUnused ?? false);
  return hs.map((h) => (h === null ? null : new Tensor(h)));
}

/** Runs fn with graph recording off (evaluation, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  const previous = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}

/**
 * Anomaly detection (torch.autograd.detect_anomaly): backward then fails at
 * the first function whose gradient is NaN, naming it. Slow; for debugging.
 */
export function setDetectAnomaly(on: boolean): void {
  native.setAnomalyEnabled(on);
}
