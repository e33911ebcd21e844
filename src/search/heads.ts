/**
 * The search-time ASPP head at each level of the last layer (Sec. 5.1): three
 * branches (1x1 conv, one 3x3 conv at rate 96/s, image pooling), each with
 * B * F * s/4 filters, concatenated, projected and classified. conv -> BN ->
 * ReLU as in DeepLab.
 */
import * as T from '../engine';
import { BNConfig, ConvBNReLU } from '../nn/layers';
import { heInit, ParameterStore, zerosInit } from '../nn/params';

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
    const unit = (part: string, cin: number, kernel: number, dilation = 1) =>
      new ConvBNReLU(store, `${name}.${part}`, cin, channels, { kernel, dilation, bn, init: heInit });
    this.b1x1 = unit('aspp1x1', channels, 1);
    this.b3x3 = unit(`aspp3x3_rate${rate}`, channels, 3, rate);
    this.pool = unit('image_pool', channels, 1);
    this.project = unit('project', 3 * channels, 1);
    this.classifier = store.param(`${name}.classifier.weight`, [classes, channels, 1, 1], heInit(channels));
    this.classifierBias = store.param(`${name}.classifier.bias`, [classes], zerosInit);
  }

  /** x: (B, C, h, w) -> logits (B, classes, h, w). */
  forward(x: T.Tensor, training: boolean, updateStats = true): T.Tensor {
    const [, , h, w] = x.shape;
    const pooled = this.pool.forward(T.adaptiveAvgPool2d(x, 1), training, updateStats);
    const branches = [this.b1x1.forward(x, training, updateStats), this.b3x3.forward(x, training, updateStats), T.expand(pooled, [-1, -1, h, w])];
    const y = this.project.forward(T.cat(branches, 1), training, updateStats);
    return T.conv2d(y, this.classifier, { bias: this.classifierBias });
  }
}
