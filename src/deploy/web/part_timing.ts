/**
 * A part of the network (or a whole network) timed in the browser
 * (runtime.ts): exported as its own ONNX graph, as for onnxruntime-node.
 * Timed alone, every part pays what the whole network pays once: the call
 * from JS into onnxruntime-web's WASM and the copies of its input and output
 * across that boundary. inGraph: also time that call on a graph that only
 * passes the part's input through a ReLU (same input, an output of its size),
 * so that the table can count the part as inside a network (latency.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../engine';
import { exportOnnx } from '../onnx';
import type { Part, PartTiming } from '../part';
import { browserRuntime } from './runtime';

/** Milliseconds of one run of forward in the browser on inputs of `dims`. */
async function timeGraph(forward: Part['forward'], dims: Part['input'], threads: number, repeats: number): Promise<{ wall: number; cpu: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-web-part-'));
  try {
    const file = path.join(dir, 'part.onnx');
    const [, c, h, w] = dims;
    exportOnnx(forward, h, w, file, 'autodeeplab latency-table', c);
    return await (await browserRuntime(threads)).time(file, dims, repeats);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const callTimes = new Map<string, { wall: number; cpu: number }>();

/** The milliseconds of a part in the browser by both clocks (runtime.ts), and of its bare call when inGraph. */
export async function timePartInBrowser(part: Part, threads: number, repeats: number, inGraph: boolean): Promise<PartTiming> {
  const ms = await timeGraph(part.forward, part.input, threads, repeats);
  if (!inGraph) return ms;
  const key = `${threads}:${part.input.join('x')}`;
  if (!callTimes.has(key)) callTimes.set(key, await timeGraph((x) => T.relu(x), part.input, threads, repeats));
  return { ...ms, call: callTimes.get(key) };
}
