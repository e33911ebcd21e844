/**
 * ONNX export with a symbolic height and width: one graph for images of any
 * size (the web page's, deploy/web). The trace (onnx.ts) records each resize
 * with a number for its size; here every such size becomes an expression of
 * a tensor's shape in the graph (Shape -> Slice -> arithmetic -> Concat):
 * the size of the resize's own input doubled less one (a finer level, as
 * released), halved up (atrous ops at stride 2), or the size of another
 * tensor (a cell's inputs, the ASPP's image pooling, the decoder, the logits
 * back to the image). Which one is found by tracing the model at two more
 * sizes and keeping the expression that gives every traced size.
 *
 * Every traced size is a multiple of 64, so that the four levels' sizes are
 * all even: a cell resizes its earlier input to its later one's size only
 * where they differ, and after a finer level's x2 (2s - 1) they differ
 * exactly when the level's size s is even. With all of them even, the graph
 * keeps every such resize; at an odd size it is a resize to the same size,
 * which with aligned corners is the identity.
 */
import * as T from '../engine';
import { traceOps, TracedCall } from '../engine/dispatch';
import { exportTraced, GraphBuilder, ResizeSizes } from './onnx';

/** The traced sizes: the one lowered, then two that pick the expressions. */
const TRACE_SIZES: [number, number][] = [[128, 192], [64, 128], [192, 64]];

/** What one trace says about a call: its output's (H, W), and for a resize its size and its input's call index (-1: the graph input). */
interface CallShape { op: string; hw: [number, number]; size?: [number, number]; source?: number }

type Form = 'same' | 'double' | 'half';
const FORMS: Record<Form, (d: number) => number> = { same: (d) => d, double: (d) => 2 * d - 1, half: (d) => Math.ceil(d / 2) };

const hwOf = (t: T.Tensor): [number, number] => [t.shape[2], t.shape[3]];

/** Every call of forward on zeros of (1, channels, H, W), by its shapes. */
function traceShapes(forward: (x: T.Tensor) => T.Tensor, channels: number, [h, w]: [number, number]): CallShape[] {
  const calls: CallShape[] = [];
  const index = new Map<number, number>();
  T.noGrad(() => T.tidy(() => {
    const input = T.zeros([1, channels, h, w]);
    index.set(input.id, -1);
    traceOps((c) => {
      const shape: CallShape = { op: c.op, hw: hwOf(c.output) };
      if (c.op === 'aten::upsample_bilinear2d') Object.assign(shape, { size: c.args[1] as [number, number], source: index.get((c.args[0] as T.Tensor).id) ?? -2 });
      index.set(c.output.id, calls.push(shape) - 1);
    }, () => forward(input));
  }));
  return calls;
}

/** The first (reference, form) whose size is the resize's in every trace; reference: a call index, -1 the graph input. */
function findExpression(traces: CallShape[][], i: number): { ref: number; form: Form } | null {
  const hw = (t: number, ref: number): [number, number] => (ref < 0 ? TRACE_SIZES[t] : traces[t][ref].hw);
  const fits = (ref: number, form: Form) => traces.every((calls, t) => {
    const size = calls[i].size!;
    return hw(t, ref).every((d, k) => FORMS[form](d) === size[k]);
  });
  const source = traces[0][i].source!; // -2: a weight, no reference
  if (source >= -1) for (const form of ['same', 'double', 'half'] as Form[]) if (fits(source, form)) return { ref: source, form };
  for (let ref = -1; ref < i; ref++) if (ref !== source && fits(ref, 'same')) return { ref, form: 'same' };
  return null;
}

/** Nodes computing [N, C, f(H), f(W)] from the shape of the value `ref`. */
function sizesNode(g: GraphBuilder, ref: string, form: Form, nc: [number, number]): string {
  const konst = (values: number[]) => {
    const n = g.fresh('k');
    g.initializers.push(g.ints(n, values));
    return n;
  };
  const shape = g.fresh('shape');
  g.node('Shape', [ref], shape);
  let hw = g.fresh('hw');
  g.node('Slice', [shape, konst([2]), konst([4])], hw);
  const step = (op: string, k: number) => {
    const next = g.fresh('hw');
    g.node(op, [hw, konst([k])], next);
    hw = next;
  };
  if (form === 'double') {
    step('Mul', 2);
    step('Sub', 1);
  }
  if (form === 'half') {
    step('Add', 1);
    step('Div', 2); // ceil(d / 2): int64 division floors
  }
  const sizes = g.fresh('sizes');
  g.node('Concat', [konst(nc), hw], sizes, { axis: 0 });
  return sizes;
}

/** Writes model(images) -> logits as ONNX for inputs (1, channels, height, width) of any height and width. */
export function exportOnnxDynamic(forward: (x: T.Tensor) => T.Tensor, file: string, producer = 'autodeeplab', channels = 3): void {
  const traces = TRACE_SIZES.map((s) => traceShapes(forward, channels, s));
  traces.slice(1).forEach((calls, t) => {
    if (calls.length !== traces[0].length || calls.some((c, i) => c.op !== traces[0][i].op)) {
      throw new Error(`ONNX export: the model runs other operators at ${TRACE_SIZES[t + 1].join('x')} than at ${TRACE_SIZES[0].join('x')}; its graph depends on the input size`);
    }
  });
  const resizeSizes: ResizeSizes = (g: GraphBuilder, c: TracedCall) => {
    const i = g.callNames.length; // this call's index: lowered in call order
    const e = findExpression(traces, i);
    if (!e) throw new Error(`ONNX export: the size of resize ${i} (${traces[0][i].size!.join('x')}) is no tensor's size in the graph`);
    const ref = e.ref < 0 ? 'input' : g.callNames[e.ref];
    return sizesNode(g, ref, e.form, [1, (c.args[0] as T.Tensor).shape[1]]);
  };
  exportTraced(forward, [1, channels, ...TRACE_SIZES[0]], file, producer, resizeSizes, ['height', 'width']);
}
