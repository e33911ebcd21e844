// The model in onnxruntime-web: an image's pixels in, logits and the label map out.
import * as ort from './ort/ort.webgpu.min.mjs';

ort.env.wasm.wasmPaths = new URL('./ort/', import.meta.url).href;
// Threads need a cross-origin isolated page (`autodeeplab serve` sends the headers); SIMD is in every build.
ort.env.wasm.numThreads = globalThis.crossOriginIsolated ? Math.min(4, navigator.hardwareConcurrency || 1) : 1;

/** Whether this browser offers WebGPU. */
export async function hasWebGpu() {
  if (!navigator.gpu) return false;
  try { return (await navigator.gpu.requestAdapter()) !== null; } catch { return false; }
}

/** A session of model.onnx on `backend` ('wasm' or 'webgpu'). */
export function createSession(modelUrl, backend) {
  return ort.InferenceSession.create(modelUrl, { executionProviders: [backend], graphOptimizationLevel: 'all' });
}

/** RGBA pixels (H x W x 4, 0..255) to the model's input (1, 3, H, W): 0..1 RGB normalised by mean and std, as in training. */
export function toInput(rgba, height, width, mean, std) {
  const plane = height * width;
  const x = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) x[c * plane + i] = (rgba[4 * i + c] / 255 - mean[c]) / std[c];
  }
  return new ort.Tensor('float32', x, [1, 3, height, width]);
}

/** Logits (1, K, H, W) to the label map (H x W): the class of the largest logit, the first on ties. */
export function labelsOf(logits, classes, plane) {
  const labels = new Uint8Array(plane);
  for (let i = 0; i < plane; i++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (logits[k * plane + i] > logits[best * plane + i]) best = k;
    labels[i] = best;
  }
  return labels;
}

/** One run of the model: the logits, the label map and the milliseconds of session.run. */
export async function segment(session, input) {
  const [, , height, width] = input.dims;
  const t0 = performance.now();
  const out = await session.run({ [session.inputNames[0]]: input });
  const ms = performance.now() - t0;
  const logits = out[session.outputNames[0]];
  const data = await logits.getData();
  return { logits: data, labels: labelsOf(data, logits.dims[1], height * width), ms };
}
