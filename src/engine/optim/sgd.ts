/** SGD with momentum, Nesterov momentum and L2 weight decay (torch.optim.SGD's update). */
import { clone } from '../ops/shape';
import { Tensor } from '../tensor';
import { callInPlace } from '../dispatch';
import { foreachAdd, foreachAddInPlace, foreachScale, Optimizer } from './optimizer';

export interface SGDOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD extends Optimizer {
  /** CPU steps after the first with momentum run the one-pass native update (on a GPU the _foreach ops batch the launches); false: the composed one (tests compare them). */
  static fused = true;
  readonly momentum: number;
  readonly dampening: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;

  constructor(params: Tensor[], o: SGDOptions) {
    super(params, o.lr);
    this.momentum = o.momentum ?? 0;
    this.dampening = o.dampening ?? 0;
    this.weightDecay = o.weightDecay ?? 0;
    this.nesterov = o.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new RangeError(`SGD: momentum must be >= 0, got ${this.momentum}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`SGD: weightDecay must be >= 0, got ${this.weightDecay}`);
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) {
      throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0');
    }
  }

  protected update(indices: number[], grads: Tensor[]): void {
    const params = indices.map((i) => this.params[i]);
    if (this.momentum && SGD.fused && params.every((p) => p.device === 'cpu') && indices.every((i) => this.state.get(i)?.momentum_buffer)) {
      // The same update in one pass over each parameter (native/src/sgd.cc); composedUpdate is its reference.
      const bufs = indices.map((i) => this.state.get(i)!.momentum_buffer);
      callInPlace('adl::sgd_momentum_step_', [params, grads, bufs, this.lr, this.momentum, this.dampening, this.weightDecay, this.nesterov]);
      return;
    }
    this.composedUpdate(indices, params, grads);
  }

  /** The update as libtorch's _foreach ops: four passes over the parameters (and the first step's buffers). */
  private composedUpdate(indices: number[], params: Tensor[], grads: Tensor[]): void {
    // d = g + wd * p, in place on the gradients (they are consumed by this step):
    // an out-of-place copy would hold a second set of gradients at the peak.
    if (this.weightDecay) foreachAddInPlace(grads, params, this.weightDecay);
    let d = grads;
    if (this.momentum) {
      const fresh = indices.filter((i) => !this.state.get(i)?.momentum_buffer);
      // buf = d on the first step, else momentum * buf + (1 - dampening) * d
      const bufs = indices.map((i, k) => this.slot(i, 'momentum_buffer', () => clone(d[k])));
      const old = bufs.filter((_, k) => !fresh.includes(indices[k]));
      const oldD = d.filter((_, k) => !fresh.includes(indices[k]));
      if (old.length) {
        foreachScale(old, this.momentum);
        foreachAddInPlace(old, oldD, 1 - this.dampening);
      }
      d = this.nesterov ? foreachAdd(d, bufs, this.momentum) : bufs;
    }
    foreachAddInPlace(params, d, -this.lr);
  }

  protected hyperParameters(): Record<string, unknown> {
    return { momentum: this.momentum, dampening: this.dampening, weightDecay: this.weightDecay, nesterov: this.nesterov };
  }
}
