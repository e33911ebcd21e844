/**
 * Optimiser base: a list of parameters, per-parameter state tensors, and a
 * state dict (tensors + plain metadata) that round-trips through safetensors.
 * Updates use libtorch's multi-tensor (_foreach) kernels: one native call per
 * update term for all parameters, not one per parameter.
 */
import { callInPlace, callTensors } from '../dispatch';
import { Tensor } from '../tensor';
import { tidy } from '../scope';
import { noGrad } from '../autograd';

export interface OptimizerState {
  /** name -> tensor, e.g. "3.exp_avg" for parameter 3. */
  tensors: Record<string, Tensor>;
  /** plain, JSON-serialisable values (step counts, hyper-parameters). */
  meta: Record<string, unknown>;
}

export abstract class Optimizer {
  readonly params: Tensor[];
  /** Learning rate of the next step (schedules set it). */
  lr: number;
  protected readonly state: Map<number, Record<string, Tensor>> = new Map();

  constructor(params: Tensor[], lr: number) {
    if (!Array.isArray(params) || params.length === 0) throw new Error(`${this.constructor.name}: no parameters to optimise`);
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: params[${i}] is not a Tensor`);
    });
    if (!(lr >= 0)) throw new RangeError(`${this.constructor.name}: lr must be >= 0, got ${lr}`);
    this.params = params;
    this.lr = lr;
  }

  /** Clears the gradients (of `subset` only, when given). */
  zeroGrad(subset?: readonly number[]): void {
    if (subset) for (const i of subset) this.params[i].zeroGrad();
    else for (const p of this.params) p.zeroGrad();
  }

  /**
   * One update from the gradients in .grad (parameters without one are
   * skipped). `subset` limits it to some parameter indices: updating a
   * network part by part, as soon as each part's gradients are complete,
   * gives the same result as one step over all of them.
   */
  step(subset?: readonly number[]): void {
    noGrad(() =>
      tidy(() => {
        const indices: number[] = [];
        const grads: Tensor[] = [];
        (subset ?? this.params.map((_, i) => i)).forEach((i) => {
          const p = this.params[i];
          const g = p.grad;
          if (g) {
            indices.push(i);
            grads.push(g);
          }
        });
        if (indices.length) this.update(indices, grads);
      }),
    );
  }

  /** Applies the update to params[indices] given their gradients. */
  protected abstract update(indices: number[], grads: Tensor[]): void;

  /** The state tensor `name` of parameter i, made by init on first use (kept). */
  protected slot(i: number, name: string, init: () => Tensor): Tensor {
    let s = this.state.get(i);
    if (!s) this.state.set(i, (s = {}));
    if (!s[name]) s[name] = init().keep();
    return s[name];
  }

  protected abstract hyperParameters(): Record<string, unknown>;

  stateDict(): OptimizerState {
    const tensors: Record<string, Tensor> = {};
    for (const [i, s] of this.state) for (const [k, t] of Object.entries(s)) tensors[`${i}.${k}`] = t;
    return { tensors, meta: { type: this.constructor.name, lr: this.lr, ...this.hyperParameters(), ...this.extraMeta() } };
  }

  loadStateDict(sd: OptimizerState): void {
    if (sd.meta.type !== this.constructor.name) {
      throw new Error(`${this.constructor.name}.loadStateDict: state was saved by ${String(sd.meta.type)}`);
    }
    for (const s of this.state.values()) for (const t of Object.values(s)) t.dispose();
    this.state.clear();
    for (const [key, t] of Object.entries(sd.tensors)) {
      const dot = key.indexOf('.');
      const i = Number(key.slice(0, dot));
      if (!Number.isInteger(i) || i < 0 || i >= this.params.length) {
        throw new Error(`${this.constructor.name}.loadStateDict: '${key}' names parameter ${i}, but there are ${this.params.length}`);
      }
      const shape = this.params[i].shape.join(',');
      if (t.shape.join(',') !== shape) {
        throw new Error(`${this.constructor.name}.loadStateDict: '${key}' has shape [${t.shape}], parameter ${i} has [${shape}]`);
      }
      this.slot(i, key.slice(dot + 1), () => t);
    }
    if (typeof sd.meta.lr === 'number') this.lr = sd.meta.lr;
    this.loadExtraMeta(sd.meta);
  }

  /** Frees the optimiser's state tensors (not the parameters). */
  dispose(): void {
    for (const s of this.state.values()) for (const t of Object.values(s)) t.dispose();
    this.state.clear();
  }

  protected extraMeta(): Record<string, unknown> {
    return {};
  }
  protected loadExtraMeta(_meta: Record<string, unknown>): void {}
}

// ---- multi-tensor helpers (in place on lists) ------------------------------

/** xs[i] *= s */
export function foreachScale(xs: Tensor[], s: number): void {
  callInPlace('aten::_foreach_mul_.Scalar', [xs, s]);
}
/** xs[i] += alpha * ys[i] */
export function foreachAddInPlace(xs: Tensor[], ys: Tensor[], alpha: number): void {
  callInPlace('aten::_foreach_add_.List', [xs, ys, alpha]);
}
/** xs[i] + alpha * ys[i], new tensors */
export function foreachAdd(xs: Tensor[], ys: Tensor[], alpha: number): Tensor[] {
  return callTensors('aten::_foreach_add.List', [xs, ys, alpha]);
}
/** xs[i] += value * a[i] * b[i] */
export function foreachAddcmul(xs: Tensor[], a: Tensor[], b: Tensor[], value: number): void {
  callInPlace('aten::_foreach_addcmul_.Scalar', [xs, a, b, value]);
}
/** xs[i] += value * a[i] / b[i] */
export function foreachAddcdiv(xs: Tensor[], a: Tensor[], b: Tensor[], value: number): void {
  callInPlace('aten::_foreach_addcdiv_.Scalar', [xs, a, b, value]);
}
/** sqrt(xs[i]), new tensors */
export function foreachSqrt(xs: Tensor[]): Tensor[] {
  return callTensors('aten::_foreach_sqrt', [xs]);
}
/** xs[i] += s */
export function foreachAddScalar(xs: Tensor[], s: number): void {
  callInPlace('aten::_foreach_add_.Scalar', [xs, s]);
}
