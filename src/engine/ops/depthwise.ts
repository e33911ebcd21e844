/**
 * Depthwise convolution, stride 1, through the addon's adl::depthwise_conv2d:
 * on the CPU its own forward and gradients (libtorch 1.13's kernels pay tens of
 * microseconds of set-up a call on small maps, and its 5x5 weight gradient is
 * far slower than its 3x3 one: docs/performance.md#the-depthwise-kernel;
 * native/src/depthwise.cc), elsewhere libtorch's. conv2d with groups =
 * channels is the reference; a test proves them equal in values and gradients.
 */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectRank, pair } from './validate';

export interface DepthwiseOptions {
  padding?: number | [number, number];
  dilation?: number | [number, number];
  /**
   * Which of the own CPU loops (the test proves them bit-identical; the bench
   * times them): 'planes' (each channel's padded planes flattened), 'channels'
   * (channels innermost; float32 only, else planes), or 'auto' (default:
   * channels on maps of at most 16 output pixels).
   */
  layout?: 'auto' | 'planes' | 'channels';
}

const LAYOUTS = { auto: 0, planes: 1, channels: 2 } as const;

/** x (B, C, H, W) * weight (C, 1, kH, kW) -> (B, C, H', W'); not twice differentiable. */
export function depthwiseConv2d(x: Tensor, weight: Tensor, o: DepthwiseOptions = {}): Tensor {
  expectRank('depthwiseConv2d', 'x', x, 4);
  expectRank('depthwiseConv2d', 'weight', weight, 4);
  if (weight.shape[1] !== 1 || weight.shape[0] !== x.shape[1]) {
    throw new RangeError(`depthwiseConv2d: weight [${weight.shape}] must be (${x.shape[1]}, 1, kH, kW) for input [${x.shape}]`);
  }
  const padding = pair('depthwiseConv2d', 'padding', o.padding ?? 0, 0);
  const dilation = pair('depthwiseConv2d', 'dilation', o.dilation ?? 1, 1);
  const layout = o.layout ?? 'auto';
  if (!Object.hasOwn(LAYOUTS, layout)) throw new RangeError(`depthwiseConv2d: layout must be one of ${Object.keys(LAYOUTS).join(', ')}, got '${layout}'`);
  return layout === 'auto' ? callTensor('adl::depthwise_conv2d', [x, weight, padding, dilation])
    : callTensor('adl::depthwise_conv2d_layout', [x, weight, padding, dilation, LAYOUTS[layout]]);
}

/**
 * How the mixed op reads a tiled input: x (B, Cx, H, W) with each block of `block` channels repeated `repeats` times in
 * place, as T.reshape(T.expand(T.reshape(x, [B, G, 1, block, H, W]), [B, G, repeats, block, H, W]), [B, G * repeats * block, H, W])
 * would give, without making that copy.
 */
export interface Tiling {
  repeats: number;
  block: number;
}

/**
 * The tiling (none: repeats 1) after checking it against x (B, Cx, H, W) and weights of cg channels: whole numbers
 * repeats >= 1 and block >= 1; when tiled, a block that divides Cx and Cx * repeats = cg.
 */
export function checkTiling(op: string, x: Tensor, cg: number, tiling: Tiling | undefined): Tiling {
  const { repeats, block } = tiling ?? { repeats: 1, block: 1 };
  if (!Number.isInteger(repeats) || !Number.isInteger(block) || repeats < 1 || block < 1) {
    throw new RangeError(`${op}: tiling needs whole numbers repeats >= 1 and block >= 1, got ${repeats} and ${block}`);
  }
  if (repeats === 1) return { repeats, block };
  const cx = x.shape[1];
  if (cx % block !== 0) throw new RangeError(`${op}: tiling block ${block} does not divide the input's ${cx} channels (input [${x.shape}])`);
  if (cx * repeats !== cg) {
    throw new RangeError(`${op}: an input of ${cx} channels repeated ${repeats} times has ${cx * repeats} channels, the weights ${cg} (input [${x.shape}])`);
  }
  return { repeats, block };
}

/**
 * Mixed depthwise convolution (MixConv; stride 1, 'same' padding, odd kernels):
 * weight i, (Cg, 1, k_i, k_i), convolves x's channels [i Cg, (i + 1) Cg), or
 * all of x when x has Cg channels; outputs concatenated in channels,
 * (B, K Cg, H, W). The same as a depthwiseConv2d per weight and a cat, bit for
 * bit, in one call and one backward node. With `tiling`, every weight reads x
 * tiled to Cg channels (the same, bit for bit, as tiling it with expand first).
 */
export function mixedDepthwiseConv2d(x: Tensor, weights: Tensor[], o: { dilation?: number | [number, number]; tiling?: Tiling } = {}): Tensor {
  expectRank('mixedDepthwiseConv2d', 'x', x, 4);
  if (!Array.isArray(weights) || weights.length === 0) throw new RangeError('mixedDepthwiseConv2d: expected a non-empty array of weights');
  const cg = weights[0].shape[0];
  const { repeats, block } = checkTiling('mixedDepthwiseConv2d', x, cg, o.tiling);
  if (repeats === 1 && x.shape[1] !== cg && x.shape[1] !== weights.length * cg) {
    throw new RangeError(`mixedDepthwiseConv2d: ${weights.length} weight(s) of ${cg} channels need an input of ${cg} or ${weights.length * cg} channels, got [${x.shape}]`);
  }
  weights.forEach((w, i) => {
    expectRank('mixedDepthwiseConv2d', `weights[${i}]`, w, 4);
    const [c, one, kh, kw] = w.shape;
    if (c !== cg || one !== 1 || kh % 2 === 0 || kw % 2 === 0) {
      throw new RangeError(`mixedDepthwiseConv2d: weights[${i}] [${w.shape}] must be (${cg}, 1, kH, kW) with odd kH and kW`);
    }
  });
  const dilation = pair('mixedDepthwiseConv2d', 'dilation', o.dilation ?? 1, 1);
  return callTensor('adl::mixed_depthwise_conv2d', [x, weights, dilation, repeats, block]);
}
