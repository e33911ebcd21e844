// Timing ONNX graphs in this page, for `latency-table --runtime web`, driven from Node by
// src/deploy/web/runtime.ts: load(url, dims) once, then sample(times) per timed sample
// (Node reads the renderer's CPU time around each), then unload().
import * as ort from './ort/ort.webgpu.min.mjs';

const query = new URLSearchParams(location.search);
ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
ort.env.wasm.numThreads = Number(query.get('threads') ?? 1);
const backend = query.get('backend') ?? 'wasm';

let session = null;
let feed = null;

async function run() {
  const out = await session.run(feed);
  for (const t of Object.values(out)) t.dispose?.();
}

/**
 * A session of the graph at `url` on a random input of `dims`, after two
 * warm-up runs; returns how many runs make a sample of at least 20 ms.
 */
window.load = async (url, dims) => {
  session = await ort.InferenceSession.create(url, { executionProviders: [backend], graphOptimizationLevel: 'all' });
  const size = dims.reduce((a, b) => a * b, 1);
  feed = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from({ length: size }, () => Math.random() - 0.5), dims) };
  for (let i = 0; i < 2; i++) await run();
  const t0 = performance.now();
  await run();
  return Math.max(1, Math.ceil(20 / Math.max(performance.now() - t0, 1e-3)));
};

/** Milliseconds (wall clock) of one run, averaged over `times` runs. */
window.sample = async (times) => {
  const t = performance.now();
  for (let j = 0; j < times; j++) await run();
  return (performance.now() - t) / times;
};

window.unload = async () => {
  await session.release();
  [session, feed] = [null, null];
};
document.body.dataset.state = 'ready';
