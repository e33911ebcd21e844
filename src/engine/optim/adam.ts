/**
 * Adam (L2 weight decay added to the gradient, torch.optim.Adam) and AdamW
 * (decoupled decay, torch.optim.AdamW). The architecture optimiser of the
 * paper (Sec. 5.1) is Adam with weight decay 1e-3.
 */
import { zerosLike } from '../ops/creation';
import { Tensor } from '../tensor';
import {
  foreachAddcdiv, foreachAddcmul, foreachAddInPlace, foreachAddScalar, foreachScale, foreachSqrt, Optimizer,
} from './optimizer';

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
}

export class Adam extends Optimizer {
  readonly betas: [number, number];
  readonly eps: number;
  readonly weightDecay: number;
  /** Completed steps per parameter (bias correction). */
  protected steps: number[];
  protected readonly decoupled: boolean = false;

  constructor(params: Tensor[], o: AdamOptions) {
    super(params, o.lr);
    this.betas = o.betas ?? [0.9, 0.999];
    this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? 0;
    if (this.betas.some((b) => !(b >= 0 && b < 1))) throw new RangeError(`${this.constructor.name}: betas must be in [0, 1), got [${this.betas}]`);
    if (!(this.eps > 0)) throw new RangeError(`${this.constructor.name}: eps must be > 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`${this.constructor.name}: weightDecay must be >= 0, got ${this.weightDecay}`);
    this.steps = params.map(() => 0);
  }

  protected update(indices: number[], grads: Tensor[]): void {
    // Parameters that have taken the same number of steps share a bias correction.
    const groups = new Map<number, number[]>();
    indices.forEach((i, k) => {
      this.steps[i] += 1;
      const g = groups.get(this.steps[i]) ?? [];
      g.push(k);
      groups.set(this.steps[i], g);
    });
    for (const [step, ks] of groups) this.updateGroup(step, ks.map((k) => indices[k]), ks.map((k) => grads[k]));
  }

  private updateGroup(step: number, indices: number[], grads: Tensor[]): void {
    const [b1, b2] = this.betas;
    const params = indices.map((i) => this.params[i]);
    if (this.weightDecay && this.decoupled) foreachScale(params, 1 - this.lr * this.weightDecay);
    if (this.weightDecay && !this.decoupled) foreachAddInPlace(grads, params, this.weightDecay); // g += wd * p
    const g = grads;
    const m = indices.map((i) => this.slot(i, 'exp_avg', () => zerosLike(this.params[i])));
    const v = indices.map((i) => this.slot(i, 'exp_avg_sq', () => zerosLike(this.params[i])));
    foreachScale(m, b1); // m = b1 m + (1 - b1) g
    foreachAddInPlace(m, g, 1 - b1);
    foreachScale(v, b2); // v = b2 v + (1 - b2) g^2
    foreachAddcmul(v, g, g, 1 - b2);
    const bc1 = 1 - b1 ** step;
    const bc2 = 1 - b2 ** step;
    const denom = foreachSqrt(v); // sqrt(v) / sqrt(bc2) + eps
    foreachScale(denom, 1 / Math.sqrt(bc2));
    foreachAddScalar(denom, this.eps);
    foreachAddcdiv(params, m, denom, -this.lr / bc1);
  }

  protected hyperParameters(): Record<string, unknown> {
    return { betas: this.betas, eps: this.eps, weightDecay: this.weightDecay };
  }
  protected override extraMeta(): Record<string, unknown> {
    return { steps: [...this.steps] };
  }
  protected override loadExtraMeta(meta: Record<string, unknown>): void {
    const steps = meta.steps;
    if (!Array.isArray(steps) || steps.length !== this.params.length) {
      throw new Error(`${this.constructor.name}.loadStateDict: 'steps' must list ${this.params.length} step counts`);
    }
    this.steps = steps.map(Number);
  }
}

/** Adam with decoupled weight decay: p <- p (1 - lr wd) before the Adam step. */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;
}
