/** Small building blocks shared by the supernet and the retrained model. */
import * as T from '../engine';
import { convInit, heInit, Init, onesInit, ParameterStore, zerosInit } from './params';

/** BatchNorm settings: PyTorch's defaults (the search, DARTS) unless given. */
export interface BNConfig {
  momentum: number;
  eps: number;
}
export const SEARCH_BN: BNConfig = Object.freeze({ momentum: 0.1, eps: 1e-5 });

/**
 * Batch norm's running statistics are updated in training mode unless
 * `updateStats` is false: a recomputed forward pass (gradient checkpointing)
 * must not count a batch twice. Momentum 0 keeps them exactly.
 */
export function bnMomentum(cfg: BNConfig, updateStats: boolean): number {
  return updateStats ? cfg.momentum : 0;
}

/** A batch norm site: running statistics, optional affine parameters. */
export class BatchNorm {
  readonly weight: T.Tensor | null;
  readonly bias: T.Tensor | null;
  readonly runningMean: T.Tensor;
  readonly runningVar: T.Tensor;

  constructor(store: ParameterStore, name: string, channels: number, readonly cfg: BNConfig, affine: boolean) {
    this.weight = affine ? store.param(`${name}.weight`, [channels], onesInit) : null;
    this.bias = affine ? store.param(`${name}.bias`, [channels], zerosInit) : null;
    this.runningMean = store.buffer(`${name}.running_mean`, T.zeros([channels]));
    this.runningVar = store.buffer(`${name}.running_var`, T.ones([channels]));
  }

  /** scale: replaces the affine weight (the search folds alpha into it). */
  forward(x: T.Tensor, training: boolean, updateStats = true, scale: T.Tensor | null = this.weight): T.Tensor {
    return T.batchNorm(x, {
      weight: scale, bias: this.bias, runningMean: this.runningMean, runningVar: this.runningVar,
      training, momentum: bnMomentum(this.cfg, updateStats), eps: this.cfg.eps,
    });
  }
}

/** ReLU -> conv (no bias) -> BN: the order used everywhere in Auto-DeepLab. */
export class ReLUConvBN {
  readonly weight: T.Tensor;
  readonly bn: BatchNorm;

  constructor(
    store: ParameterStore, name: string, cin: number, cout: number,
    readonly o: { kernel: number; stride?: number; dilation?: number; bn: BNConfig; affine: boolean; relu?: boolean },
  ) {
    this.weight = store.param(`${name}.conv.weight`, [cout, cin, o.kernel, o.kernel], heInit(cin * o.kernel * o.kernel));
    this.bn = new BatchNorm(store, `${name}.bn`, cout, o.bn, o.affine);
  }

  forward(x: T.Tensor, training: boolean, updateStats = true): T.Tensor {
    const d = this.o.dilation ?? 1;
    const h = this.o.relu === false ? x : T.relu(x);
    const stride = this.o.stride ?? 1;
    const y = stride === 1 ? T.sameConv2d(h, this.weight, { dilation: d }) : T.conv2d(h, this.weight, { stride, padding: (d * (this.o.kernel - 1)) / 2, dilation: d });
    return this.bn.forward(y, training, updateStats);
  }
}

/** conv (no bias) -> BN -> ReLU: DeepLab's head unit (ASPP, decoder, search heads). */
export class ConvBNReLU {
  private readonly weight: T.Tensor;
  private readonly bn: BatchNorm;

  constructor(store: ParameterStore, name: string, cin: number, cout: number,
    private readonly o: { kernel: number; dilation?: number; bn: BNConfig; init?: (fanIn: number) => Init }) {
    this.weight = store.param(`${name}.conv.weight`, [cout, cin, o.kernel, o.kernel], (o.init ?? convInit)(cin * o.kernel * o.kernel));
    this.bn = new BatchNorm(store, `${name}.bn`, cout, o.bn, true);
  }

  forward(x: T.Tensor, training: boolean, updateStats = true): T.Tensor {
    const d = this.o.dilation ?? 1;
    return T.relu(this.bn.forward(T.sameConv2d(x, this.weight, { dilation: d }), training, updateStats));
  }
}
