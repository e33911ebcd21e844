// Timing ONNX graphs in this page, for `latency-table --runtime web` (driven from Node by
// src/deploy/web/runtime.ts): window.timeModel(url, dims, repeats) -> milliseconds of one run.
import * as ort from './ort/ort.webgpu.min.mjs';

const query = new URLSearchParams(location.search);
ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
ort.env.wasm.numThreads = Number(query.get('threads') ?? 1);
const backend = query.get('backend') ?? 'wasm';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * The median over `repeats` samples of the milliseconds of one session.run on a
 * random input of `dims`, after two warm-up runs; each sample runs the graph
 * often enough to span at least 20 ms (the clock's resolution is coarse when
 * the page is not cross-origin isolated).
 */
window.timeModel = async (url, dims, repeats) => {
  const session = await ort.InferenceSession.create(url, { executionProviders: [backend], graphOptimizationLevel: 'all' });
  try {
    const size = dims.reduce((a, b) => a * b, 1);
    const feed = { [session.inputNames[0]]: new ort.Tensor('float32', Float32Array.from({ length: size }, () => Math.random() - 0.5), dims) };
    const run = async () => {
      const out = await session.run(feed);
      for (const t of Object.values(out)) t.dispose?.();
    };
    for (let i = 0; i < 2; i++) await run();
    const t0 = performance.now();
    await run();
    const times = Math.max(1, Math.ceil(20 / Math.max(performance.now() - t0, 1e-3)));
    const samples = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      for (let j = 0; j < times; j++) await run();
      samples.push((performance.now() - t) / times);
    }
    return median(samples);
  } finally {
    await session.release();
  }
};
document.body.dataset.state = 'ready';
