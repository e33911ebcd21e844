/**
 * The search-time ASPP head at each level of the last layer (Sec. 5.1): three
 * branches (1x1 conv, one 3x3 conv at rate 96/s, image pooling), each with
 * B * F * s/4 filters, concatenated, projected and classified. conv -> BN ->
 * ReLU as in DeepLab.
 */
import * as T from '../engine';
import { BatchNorm, BNConfig } from '../nn/layers';
import { heInit, ParameterStore, zerosInit } from '../nn/params';

class ConvBNReLU {
  private readonly weight: T.Tensor;
  private readonly bn: BatchNorm;
  constructor(store: ParameterStore, name: string, cin: number, cout: number, private readonly kernel: number,
    private readonly dilation: number, bn: BNConfig) {
    this.weight = store.param(`${name}.conv.weight`, [cout, cin, kernel, kernel], heInit(cin * kernel * kernel));
    this.bn = new BatchNorm(store, `${name}.bn`, cout, bn, true);
  }
  forward(x: T.Tensor, training: boolean): T.Tensor {
    const pad = (this.dilation * (this.kernel - 1)) / 2;
    return T.relu(this.bn.forward(T.conv2d(x, this.weight, { padding: pad, dilation: this.dilation }), training));
  }
}

export class SearchASPP {
  private readonly b1x1: ConvBNReLU;
  private readonly b3x3: ConvBNReLU;
  private readonly pool: ConvBNReLU;
  private readonly project: ConvBNReLU;
  private readonly classifier: T.Tensor;
  private readonly classifierBias: T.Tensor;

  /** stride: the level's output stride s; the 3x3 branch uses rate 96 / s. */
  constructor(store: ParameterStore, name: string, channels: number, stride: number, classes: number, bn: BNConfig) {
    const rate = Math.max(1, Math.round(96 / stride));
    this.b1x1 = new ConvBNReLU(store, `${name}.aspp1x1`, channels, channels, 1, 1, bn);
    this.b3x3 = new ConvBNReLU(store, `${name}.aspp3x3_rate${rate}`, channels, channels, 3, rate, bn);
    this.pool = new ConvBNReLU(store, `${name}.image_pool`, channels, channels, 1, 1, bn);
    this.project = new ConvBNReLU(store, `${name}.project`, 3 * channels, channels, 1, 1, bn);
    this.classifier = store.param(`${name}.classifier.weight`, [classes, channels, 1, 1], heInit(channels));
    this.classifierBias = store.param(`${name}.classifier.bias`, [classes], zerosInit);
  }

  /** x: (B, C, h, w) -> logits (B, classes, h, w). */
  forward(x: T.Tensor, training: boolean): T.Tensor {
    const [, , h, w] = x.shape;
    const pooled = this.pool.forward(T.adaptiveAvgPool2d(x, 1), training);
    const branches = [this.b1x1.forward(x, training), this.b3x3.forward(x, training), T.expand(pooled, [-1, -1, h, w])];
    const y = this.project.forward(T.cat(branches, 1), training);
    return T.conv2d(y, this.classifier, { bias: this.classifierBias });
  }
}
