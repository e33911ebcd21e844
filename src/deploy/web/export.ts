/**
 * `export --format web`: a static folder that segments a user's image in the
 * browser, with no network access: the page (web/ at the repository root),
 * the model as ONNX of any height and width (onnx_dynamic.ts), onnxruntime-web's
 * files from node_modules, and model.json (class names, colours, normalisation).
 * Written into a fresh folder beside DIR and renamed onto it, so that DIR is
 * complete or untouched.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../../engine';
import { NORMALIZE_MEAN, NORMALIZE_STD } from '../../data/dataset';
import { BadInputError } from '../../util/errors';
import { exportOnnxDynamic } from '../onnx_dynamic';

export const PAGE_DIR = path.resolve(__dirname, '..', '..', '..', '..', 'web');
/** onnxruntime-web's ES module with the WASM and WebGPU backends, and the WASM build it loads. */
export const ORT_FILES = ['ort.webgpu.min.mjs', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];
export const PAGE_FILES = ['index.html', 'page.css', 'app.js', 'segment.js', 'draw.js'];

/** What the page reads from model.json. */
export interface WebModelMeta {
  classNames: string[];
  palette: [number, number, number][];
  mean: readonly number[];
  std: readonly number[];
}

function ortDist(): string {
  // The package's exports map hides its package.json; its entry point lies in dist/.
  return path.dirname(require.resolve('onnxruntime-web'));
}

/** Copies onnxruntime-web into dir/ort. */
export function writeOrtFiles(dir: string): void {
  fs.mkdirSync(path.join(dir, 'ort'));
  for (const f of ORT_FILES) fs.copyFileSync(path.join(ortDist(), f), path.join(dir, 'ort', f));
}

/** Copies the page and onnxruntime-web into dir (an empty folder). */
export function writePageFiles(dir: string): void {
  for (const f of PAGE_FILES) fs.copyFileSync(path.join(PAGE_DIR, f), path.join(dir, f));
  writeOrtFiles(dir);
}

/** Refuses to replace a folder that is not empty and not a web export (index.html and model.json). */
function checkReplaceable(dir: string): void {
  if (!fs.existsSync(dir)) return;
  if (!fs.statSync(dir).isDirectory()) throw new BadInputError(`--out: ${dir} is a file; expected a folder for the web page`);
  const entries = fs.readdirSync(dir);
  if (entries.length && !(entries.includes('index.html') && entries.includes('model.json'))) {
    throw new BadInputError(`--out: ${dir} is a folder with other files; give a new or empty folder (or an earlier web export to replace)`);
  }
}

/** Writes the web page for forward (images (1, 3, H, W) -> logits (1, K, H, W)) into dir. */
export function exportWeb(forward: (x: T.Tensor) => T.Tensor, meta: Omit<WebModelMeta, 'mean' | 'std'>, dir: string): void {
  const out = path.resolve(dir);
  checkReplaceable(out);
  const tmp = fs.mkdtempSync(`${out}.tmp-`);
  try {
    writePageFiles(tmp);
    exportOnnxDynamic(forward, path.join(tmp, 'model.onnx'), 'autodeeplab export --format web');
    const full: WebModelMeta = { ...meta, mean: NORMALIZE_MEAN, std: NORMALIZE_STD };
    fs.writeFileSync(path.join(tmp, 'model.json'), JSON.stringify(full, null, 1) + '\n');
    fs.rmSync(out, { recursive: true, force: true });
    fs.renameSync(tmp, out);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
