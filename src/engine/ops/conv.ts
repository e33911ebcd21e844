/** 2-D convolution (NCHW), the work-horse of every cell. */
import { callTensor, traceOps } from '../dispatch';
import { Tensor } from '../tensor';
import { pointwiseConv2d, routesToPointwise } from './pointwise';
import { expectInt, expectRank, expectTensor, pair } from './validate';

/** What a conv2d call did, for cost accounting. */
export interface ConvRecord {
  input: number[];
  weight: Tensor;
  output: number[];
  groups: number;
}

/** Calls fn with every conv2d made while `body` runs (e.g. to count multiply-adds). */
export function observeConvolutions<T>(fn: (r: ConvRecord) => void, body: () => T): T {
  return traceOps((c) => {
    if (c.op !== 'aten::conv2d') return;
    fn({ input: (c.args[0] as Tensor).shape, weight: c.args[1] as Tensor, output: c.output.shape, groups: c.args[6] as number });
  }, body);
}

export interface Conv2dOptions {
  bias?: Tensor | null;
  stride?: number | [number, number];
  padding?: number | [number, number];
  dilation?: number | [number, number];
  groups?: number;
}

/**
 * x (B, Cin, H, W) * weight (Cout, Cin / groups, kH, kW) -> (B, Cout, H', W').
 * groups = Cin = Cout is a depthwise convolution.
 */
export function conv2d(x: Tensor, weight: Tensor, o: Conv2dOptions = {}): Tensor {
  expectRank('conv2d', 'x', x, 4);
  expectRank('conv2d', 'weight', weight, 4);
  const groups = o.groups ?? 1;
  expectInt('conv2d', 'groups', groups, 1);
  const [, cin] = x.shape;
  const [cout, cinPerGroup] = weight.shape;
  if (cin !== cinPerGroup * groups) {
    throw new RangeError(
      `conv2d: input has ${cin} channels but weight [${weight.shape}] with groups=${groups} expects ${cinPerGroup * groups}`,
    );
  }
  if (cout % groups !== 0) throw new RangeError(`conv2d: ${cout} output channels are not divisible by groups=${groups}`);
  if (o.bias) {
    expectTensor('conv2d', 'bias', o.bias);
    if (o.bias.rank !== 1 || o.bias.shape[0] !== cout) {
      throw new RangeError(`conv2d: bias must have shape [${cout}], got [${o.bias.shape}]`);
    }
  }
  const stride = pair('conv2d', 'stride', o.stride ?? 1, 1);
  const padding = pair('conv2d', 'padding', o.padding ?? 0, 0);
  const dilation = pair('conv2d', 'dilation', o.dilation ?? 1, 1);
  // Small CPU 1x1 convolutions run the addon's own kernel (same values and gradients: test/engine/pointwise.test.ts).
  if (routesToPointwise(x, weight, groups, stride, padding, !!o.bias)) return pointwiseConv2d(x, weight, groups);
  return callTensor('aten::conv2d', [x, weight, o.bias ?? null, stride, padding, dilation, groups]);
}

