/**
 * ONNX export by tracing: the model's evaluation forward pass runs once on an
 * input of the export size, every aten call is recorded, and each becomes an
 * ONNX node (opset 13); tensors that no traced call produced and that are not
 * the input are the weights (initializers). The graph has a fixed input size
 * here; onnx_dynamic.ts writes one whose height and width are symbolic.
 */
import * as fs from 'node:fs';
import { onnx } from 'onnx-proto';
import * as T from '../engine';
import { OpArg, traceOps, TracedCall } from '../engine/dispatch';
import { writeFileAtomic } from '../util/files';

const OPSET = 13;

/** The exporter's own tensor work is not part of the model's graph. */
const untraced = <R>(fn: () => R): R => traceOps(() => undefined, fn);

export class GraphBuilder {
  readonly nodes: onnx.INodeProto[] = [];
  readonly initializers: onnx.ITensorProto[] = [];
  /** The value name of each traced call's output, in call order, and the call index of each traced tensor. */
  readonly callNames: string[] = [];
  readonly callIndex = new Map<number, number>();
  private readonly names = new Map<number, string>();
  private counter = 0;

  constructor(input: T.Tensor) {
    this.names.set(input.id, 'input');
  }

  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  /** The value name of a tensor: traced output, the input, or a new initializer (a weight). */
  name(t: T.Tensor): string {
    let n = this.names.get(t.id);
    if (!n) {
      n = this.fresh('w');
      this.names.set(t.id, n);
      this.initializers.push(this.constant(n, t));
    }
    return n;
  }

  bind(t: T.Tensor, name: string): void {
    this.names.set(t.id, name);
  }

  constant(name: string, t: T.Tensor): onnx.ITensorProto {
    if (t.dtype === 'int64') return { name, dims: t.shape, dataType: onnx.TensorProto.DataType.INT64, rawData: Buffer.from((t.data() as BigInt64Array).buffer) };
    const f = untraced(() => T.noGrad(() => T.tidy(() => T.cast(t, 'float32').data() as Float32Array)));
    return { name, dims: t.shape, dataType: onnx.TensorProto.DataType.FLOAT, rawData: Buffer.from(f.buffer, f.byteOffset, f.byteLength) };
  }

  ints(name: string, values: number[]): onnx.ITensorProto {
    return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: Buffer.from(BigInt64Array.from(values.map(BigInt)).buffer) };
  }

  node(opType: string, inputs: string[], output: string, attrs: Record<string, number | number[] | string> = {}): void {
    const attribute: onnx.IAttributeProto[] = Object.entries(attrs).map(([name, v]) => {
      if (typeof v === 'string') return { name, type: onnx.AttributeProto.AttributeType.STRING, s: Buffer.from(v) };
      if (Array.isArray(v)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: v };
      return Number.isInteger(v) ? { name, type: onnx.AttributeProto.AttributeType.INT, i: v } : { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: v };
    });
    this.nodes.push({ opType, input: inputs, output: [output], name: this.fresh(opType), attribute });
  }
}

const pair = (v: OpArg): number[] => (Array.isArray(v) ? (v as number[]) : [v as number, v as number]);

/** The name of a Resize's `sizes` input for a traced resize (onnx_dynamic.ts: computed from shapes in the graph). */
export type ResizeSizes = (g: GraphBuilder, c: TracedCall) => string;

const fixedSizes: ResizeSizes = (g, c) => {
  const [N, C] = (c.args[0] as T.Tensor).shape;
  const sizes = g.fresh('sizes');
  g.initializers.push(g.ints(sizes, [N, C, ...pair(c.args[1])]));
  return sizes;
};

/** Lowers one traced aten call to ONNX nodes. */
function lower(g: GraphBuilder, c: TracedCall, resizeSizes: ResizeSizes): void {
  const out = g.fresh('t');
  const a = c.args;
  const tensorArg = (i: number) => g.name(a[i] as T.Tensor);
  switch (c.op) {
    case 'aten::conv2d': {
      const [s, p, d] = [pair(a[3]), pair(a[4]), pair(a[5])];
      const inputs = [tensorArg(0), tensorArg(1), ...(a[2] ? [tensorArg(2)] : [])];
      g.node('Conv', inputs, out, { strides: s, pads: [p[0], p[1], p[0], p[1]], dilations: d, group: a[6] as number, kernel_shape: (a[1] as T.Tensor).shape.slice(2) });
      break;
    }
    case 'aten::batch_norm': {
      if (a[5]) throw new Error('ONNX export: batch norm in training mode cannot be exported (export evaluates the model)');
      const C = (a[0] as T.Tensor).shape[1];
      const w = a[1] ? tensorArg(1) : g.name(untraced(() => T.ones([C])));
      const b = a[2] ? tensorArg(2) : g.name(untraced(() => T.zeros([C])));
      g.node('BatchNormalization', [tensorArg(0), w, b, tensorArg(3), tensorArg(4)], out, { epsilon: a[7] as number });
      break;
    }
    case 'aten::relu':
      g.node('Relu', [tensorArg(0)], out);
      break;
    case 'aten::add.Tensor': {
      if ((a[2] ?? 1) !== 1) throw new Error('ONNX export: add with alpha != 1 is not supported');
      g.node('Add', [tensorArg(0), tensorArg(1)], out);
      break;
    }
    case 'aten::cat':
      g.node('Concat', (a[0] as T.Tensor[]).map((t) => g.name(t)), out, { axis: a[1] as number });
      break;
    case 'aten::upsample_bilinear2d': {
      g.node('Resize', [tensorArg(0), '', '', resizeSizes(g, c)], out, {
        mode: 'linear', coordinate_transformation_mode: a[2] ? 'align_corners' : 'pytorch_half_pixel',
      });
      break;
    }
    case 'aten::avg_pool2d':
    case 'aten::max_pool2d': {
      const [k, s, p] = [pair(a[1]), pair(a[2]), pair(a[3])];
      const attrs: Record<string, number | number[]> = { kernel_shape: k, strides: s, pads: [p[0], p[1], p[0], p[1]], ceil_mode: a[c.op === 'aten::avg_pool2d' ? 4 : 5] ? 1 : 0 };
      if (c.op === 'aten::avg_pool2d') attrs.count_include_pad = a[5] ? 1 : 0;
      g.node(c.op === 'aten::avg_pool2d' ? 'AveragePool' : 'MaxPool', [tensorArg(0)], out, attrs);
      break;
    }
    case 'aten::adaptive_avg_pool2d': {
      const o = pair(a[1]);
      if (o[0] !== 1 || o[1] !== 1) throw new Error('ONNX export: adaptive average pooling is supported to 1x1 only');
      g.node('GlobalAveragePool', [tensorArg(0)], out);
      break;
    }
    default:
      throw new Error(`ONNX export: no ONNX lowering for ${c.op}`);
  }
  g.bind(c.output, out);
  g.callIndex.set(c.output.id, g.callNames.push(out) - 1);
}

/** Writes model(images) -> logits as ONNX for inputs of (1, channels, height, width) (channels: 3, or a part's, deploy/latency.ts). */
export function exportOnnx(forward: (x: T.Tensor) => T.Tensor, height: number, width: number, file: string, producer = 'autodeeplab', channels = 3): void {
  exportTraced(forward, [1, channels, height, width], file, producer, fixedSizes, null);
}

/**
 * Traces forward on zeros of `shape` and writes the graph. symbolic: names of
 * the input's and output's height and width (dynamic sizes; resizeSizes then
 * computes every Resize's size from shapes in the graph), or null (fixed).
 */
export function exportTraced(forward: (x: T.Tensor) => T.Tensor, shape: number[], file: string, producer: string, resizeSizes: ResizeSizes, symbolic: [string, string] | null): void {
  T.noGrad(() => T.tidy(() => {
    const input = T.zeros(shape);
    const g = new GraphBuilder(input);
    // Lowered as they happen: the model frees intermediates in its own scopes (handles are never reused).
    const output = traceOps((c) => lower(g, c, resizeSizes), () => forward(input));
    const dims = (d: number[]) => d.map((v, i) => (symbolic && i >= 2 ? { dimParam: symbolic[i - 2] } : { dimValue: v }));
    const model: onnx.IModelProto = {
      irVersion: 7, producerName: producer, opsetImport: [{ domain: '', version: OPSET }],
      graph: {
        name: 'autodeeplab', node: g.nodes, initializer: g.initializers,
        input: [{ name: 'input', type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims(shape) } } } }],
        output: [{ name: g.name(output), type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims(output.shape) } } } }],
      },
    };
    writeFileAtomic(file, Buffer.from(onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish()));
  }));
  if (!fs.existsSync(file)) throw new Error(`ONNX export: ${file} was not written`);
}
