/**
 * Groups profiled operators (src/engine/profile.ts) into the families a
 * reader of a profile asks about: convolutions by kind, batch norm, pooling,
 * resizing, elementwise, views and copies, loss, in-place updates, each split
 * into forward and backward, with convolution FLOPs counted in closed form.
 */
import type { OpArgument, OpEvent } from '../src/engine/profile';

export type ConvKind = 'dense kxk' | '1x1' | 'grouped 1x1' | 'grouped kxk' | 'depthwise';

/** A convolution's geometry, as conv2d and convolution_backward receive it. */
export interface ConvGeometry {
  input: number[]; // (B, Cin, H, W)
  weight: number[]; // (Cout, Cin / groups, kH, kW)
  stride: number[];
  padding: number[];
  dilation: number[];
  groups: number;
}

export function convKind(g: ConvGeometry): ConvKind {
  const [cout, cinPerGroup, kh, kw] = g.weight;
  const pointwise = kh === 1 && kw === 1;
  if (g.groups === 1) return pointwise ? '1x1' : 'dense kxk';
  if (cinPerGroup === 1 && cout === g.groups) return 'depthwise';
  return pointwise ? 'grouped 1x1' : 'grouped kxk';
}

/** Forward FLOPs (2 per multiply-add) of one convolution. */
export function convFlops(g: ConvGeometry): number {
  const [b, , h, w] = g.input;
  const [cout, cinPerGroup, kh, kw] = g.weight;
  const out = (n: number, i: number, k: number) => Math.floor((n + 2 * g.padding[i] - g.dilation[i] * (k - 1) - 1) / g.stride[i]) + 1;
  return 2 * b * cout * out(h, 0, kh) * out(w, 1, kw) * cinPerGroup * kh * kw;
}

const ints = (a: OpArgument, rank = 2): number[] => {
  const v = a && typeof a === 'object' && 'ints' in a ? a.ints : [];
  return v.length === 1 ? Array(rank).fill(v[0]) : v;
};

/** conv2d(input, weight, bias, stride, padding, dilation, groups). */
function conv2dGeometry(args: OpArgument[]): ConvGeometry {
  return { input: args[0] as number[], weight: args[1] as number[], stride: ints(args[3]), padding: ints(args[4]), dilation: ints(args[5]), groups: args[6] as number };
}

/** convolution_backward(grad_out, input, weight, bias_sizes, stride, padding, dilation, transposed, output_padding, groups, output_mask). */
function convBackwardGeometry(args: OpArgument[]): { geometry: ConvGeometry; gradients: number } {
  const mask = args[10] && typeof args[10] === 'object' && 'bools' in args[10] ? args[10].bools : [true, true];
  return {
    geometry: { input: args[1] as number[], weight: args[2] as number[], stride: ints(args[4]), padding: ints(args[5]), dilation: ints(args[6]), groups: args[9] as number },
    gradients: (mask[0] ? 1 : 0) + (mask[1] ? 1 : 0), // input and weight gradients each cost one forward's FLOPs
  };
}

/** adl::depthwise_conv2d_backward(grad, input, weight, padding, dilation, needInput, needWeight), adl::pointwise_conv2d_backward(grad, input, weight, groups, needInput, needWeight). */
function ownBackwardGeometry(name: string, args: OpArgument[]): { geometry: ConvGeometry; gradients: number } {
  const [input, weight] = [args[1] as number[], args[2] as number[]];
  const depthwise = name === 'adl::depthwise_conv2d_backward';
  const geometry = depthwise
    ? { input, weight, stride: [1, 1], padding: ints(args[3]), dilation: ints(args[4]), groups: weight[0] }
    : { input, weight, stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: args[3] as number };
  const need = args.slice(depthwise ? 5 : 4).map((a) => a === true);
  return { geometry, gradients: need.filter(Boolean).length };
}

/** (input, weight, padding, dilation) of a stride-1 depthwise convolution: its forward FLOPs. */
function depthwiseFlops(args: OpArgument[]): number {
  const weight = args[1] as number[];
  return convFlops({ input: args[0] as number[], weight, stride: [1, 1], padding: ints(args[2]), dilation: ints(args[3]), groups: weight[0] });
}

const VIEW_OR_COPY = /^(reshape|_reshape_alias|view|expand|narrow|select|slice|transpose|permute|cat|stack|contiguous|clone|unsqueeze|squeeze|index_select|flatten|copy_|constant_pad_nd|pad|to|_to_copy|as_strided|unbind|split|chunk|repeat|alias|t|detach|empty|zeros|ones|zeros_like|empty_like|fill_|zero_)$/;
const VIEW_BACKWARD = /^(View|ReshapeAlias|UnsafeView|Expand|Select|Slice|Transpose|Permute|Cat|Stack|Unsqueeze|Squeeze|IndexSelect|Clone|ConstantPadNd|Split|Unbind|Repeat|ToCopy|AsStrided|Alias|T|Copy|Copies)(Backward\d*)?$/;

const EVALUATE = 'autograd::engine::evaluate_function: ';

/** The family of a depth-0 event; conv families need the event's (or a child's) arguments. */
export function familyOf(e: OpEvent, children: OpEvent[]): { family: string; flops: number } {
  const name = e.name.replace(/^aten::/, '');
  if (e.backward || name.startsWith(EVALUATE)) {
    const node = name.replace(EVALUATE, '').replace(/Backward\d*$/, '');
    const child = children.find((c) => c.name === 'aten::convolution_backward' && c.args.length > 10);
    // The addon's own kernels: (grad, input, weight, padding, dilation | groups, needInput, needWeight); a mixed
    // depthwise node runs one per weight.
    const own = children.filter((c) => /^adl::(depthwise|pointwise)_conv2d_backward$/.test(c.name) && c.args.length >= 6);
    if (own.length > 0) {
      const parts = own.map((c) => ownBackwardGeometry(c.name, c.args));
      return { family: `conv ${convKind(parts[0].geometry)} bwd`, flops: parts.reduce((sum, p) => sum + convFlops(p.geometry) * p.gradients, 0) };
    }
    if (/DepthwiseConv2d/.test(node)) {
      // adl::depthwise_conv2d (or the mixed op: one per weight) off the CPU: libtorch's backward (the children).
      const lib = children.filter((c) => c.name === 'aten::convolution_backward' && c.args.length > 10).map((c) => convBackwardGeometry(c.args));
      return { family: 'conv depthwise bwd', flops: lib.reduce((sum, p) => sum + convFlops(p.geometry) * p.gradients, 0) };
    }
    if (node === 'Convolution' || node === 'MkldnnConvolution' || node === 'ThnnConv2D' || node === 'SlowConv2D') {
      if (!child) return { family: 'conv (unknown kind) bwd', flops: 0 };
      const { geometry, gradients } = convBackwardGeometry(child.args);
      return { family: `conv ${convKind(geometry)} bwd`, flops: convFlops(geometry) * gradients };
    }
    if (/BatchNorm/.test(node)) return { family: 'batch norm bwd', flops: 0 };
    if (/Pool/.test(node)) return { family: 'pooling bwd', flops: 0 };
    if (/Upsample/.test(node)) return { family: 'resize bwd', flops: 0 };
    if (/NllLoss|LogSoftmax|Softmax/.test(node)) return { family: 'loss bwd', flops: 0 };
    if (node === 'torch::autograd::AccumulateGrad' || node === 'AccumulateGrad') return { family: 'accumulate grad bwd', flops: 0 };
    if (VIEW_BACKWARD.test(node.replace(/^torch::autograd::/, ''))) return { family: 'view/copy bwd', flops: 0 };
    return { family: 'elementwise bwd', flops: 0 };
  }
  if (name === 'conv2d' || name === 'convolution' || name === '_convolution') {
    if (e.args.length < 7) return { family: 'conv (unknown kind) fwd', flops: 0 };
    const g = conv2dGeometry(e.args);
    return { family: `conv ${convKind(g)} fwd`, flops: convFlops(g) };
  }
  if (e.name === 'adl::pointwise_conv2d' && e.args.length === 3) {
    // (input, weight, groups): 1x1, stride 1, no padding
    const g = { input: e.args[0] as number[], weight: e.args[1] as number[], stride: [1, 1], padding: [0, 0], dilation: [1, 1], groups: e.args[2] as number };
    return { family: `conv ${convKind(g)} fwd`, flops: convFlops(g) };
  }
  if (e.name === 'adl::mixed_depthwise_conv2d') {
    // Per weight: an adl::depthwise_conv2d_part child on the own path, an aten::conv2d child off the CPU.
    const flops = children.reduce((sum, c) => sum + (c.name === 'adl::depthwise_conv2d_part' && c.args.length === 4 ? depthwiseFlops(c.args)
      : c.name === 'aten::conv2d' && c.args.length >= 7 ? convFlops(conv2dGeometry(c.args)) : 0), 0);
    return { family: 'conv depthwise fwd', flops };
  }
  if (e.name === 'adl::depthwise_conv2d' && e.args.length === 4) return { family: 'conv depthwise fwd', flops: depthwiseFlops(e.args) };
  if (/batch_norm/.test(name)) return { family: 'batch norm fwd', flops: 0 };
  if (/pool/.test(name)) return { family: 'pooling fwd', flops: 0 };
  if (/upsample|interpolate/.test(name)) return { family: 'resize fwd', flops: 0 };
  if (/cross_entropy|nll_loss|log_softmax|softmax/.test(name)) return { family: 'loss fwd', flops: 0 };
  if (name === 'matmul' || name === 'mm' || name === 'bmm' || name === 'addmm') return { family: 'matmul fwd', flops: 0 };
  if (VIEW_OR_COPY.test(name)) return { family: 'view/copy fwd', flops: 0 };
  if (name.endsWith('_')) return { family: 'in-place (optimiser, grads)', flops: 0 };
  return { family: 'elementwise fwd', flops: 0 };
}

export interface FamilyRow { family: string; calls: number; micros: number; flops: number }

/** Sums depth-0 events by family (each with the deeper events that completed under it). */
export function summarise(events: OpEvent[]): FamilyRow[] {
  const rows = new Map<string, FamilyRow>();
  let children: OpEvent[] = [];
  for (const e of events) {
    if (e.depth > 0) {
      children.push(e);
      continue;
    }
    const { family, flops } = familyOf(e, children);
    children = [];
    const r = rows.get(family) ?? { family, calls: 0, micros: 0, flops: 0 };
    r.calls++;
    r.micros += e.micros;
    r.flops += flops;
    rows.set(family, r);
  }
  return [...rows.values()].sort((a, b) => b.micros - a.micros);
}
