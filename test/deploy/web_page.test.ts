/**
 * `export --format web` opened in headless Chromium through `serve`'s server:
 * an image given to the page's own file input is segmented by onnxruntime-web
 * (WASM) exactly as onnxruntime-node segments the same file with the same
 * model.onnx, at two sizes other than the traced ones.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Browser, Page } from 'puppeteer-core';
import * as T from '../../src/engine';
import { BuiltinScenes, BUILTIN_CLASSES } from '../../src/data/builtin';
import { NORMALIZE_MEAN, NORMALIZE_STD } from '../../src/data/dataset';
import { modelConfig } from '../../src/model/presets';
import { AutoDeepLab } from '../../src/model/network';
import { saveModel } from '../../src/model/saved';
import { launchChromium } from '../../src/deploy/web/browser';
import { createStaticServer, listen } from '../../src/deploy/web/server';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const GENOTYPE = { version: 1, path: [0, 1, 0, 0], cell: { blocks: [
  [{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'atrous3x3' }],
  [{ input: 'block0', op: 'avgpool3x3' }, { input: 'prev', op: 'skip' }],
] } };

/** A smooth seeded RGB image (PNG, no colour profile) with shapes the classes name. */
async function writeImage(file: string, h: number, w: number, seed: number): Promise<void> {
  const rgb = Buffer.alloc(h * w * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inside = Math.hypot(y - h / 2, x - w / 3) < Math.min(h, w) / 4;
    for (let c = 0; c < 3; c++) rgb[3 * (y * w + x) + c] = (inside ? 200 : 40) + Math.round(40 * Math.sin((x + 3 * c + seed) / 5) * Math.cos(y / 7));
  }
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(file);
}

/** onnxruntime-node's logits for the image file (decoded by sharp, normalised as the page does). */
async function nodeLogits(session: ort.InferenceSession, file: string): Promise<{ logits: Float32Array; dims: readonly number[] }> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  const [h, w, ch] = [info.height, info.width, info.channels];
  const x = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h * w; i++) x[c * h * w + i] = (data[ch * i + c] / 255 - NORMALIZE_MEAN[c]) / NORMALIZE_STD[c];
  const out = (await session.run({ input: new ort.Tensor('float32', x, [1, 3, h, w]) }))[session.outputNames[0]];
  return { logits: out.data as Float32Array, dims: out.dims };
}

const argmax = (logits: Float32Array, k: number, plane: number) => Array.from({ length: plane }, (_, i) => {
  let best = 0;
  for (let c = 1; c < k; c++) if (logits[c * plane + i] > logits[best * plane + i]) best = c;
  return best;
});

interface PageResult { width: number; height: number; ms: number; labels: number[]; logits: number[] }

describe('web export in headless Chromium', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-web-'));
  const site = path.join(dir, 'site');
  let browser: Browser;
  let server: http.Server;
  let page: Page;

  before(async () => {
    T.manualSeed(0);
    const model = new AutoDeepLab(modelConfig({ genotype: GENOTYPE as never, filterMultiplier: 4, numClasses: BUILTIN_CLASSES.length, bn: { momentum: 0.5, eps: 1e-3 } }));
    T.noGrad(() => T.tidy(() => model.forward(T.randn([2, 3, 64, 64]), true))); // running statistics that are not the initial ones
    // Spatially varying logits: an untrained network's differ more between classes than between pixels,
    // so its label map would be one class. Larger weights, and biases that centre each class on an image.
    const sd = model.weights.stateDict();
    const K = BUILTIN_CLASSES.length;
    model.weights.loadStateDict({ ...sd, 'decoder.logits.weight': T.mul(sd['decoder.logits.weight'], 30), 'decoder.logits.bias': T.zeros([K]) });
    const y = T.noGrad(() => T.tidy(() => model.forward(T.randn([1, 3, 64, 64]), false).toArray()));
    const means = Array.from({ length: K }, (_, k) => y.slice(k * 4096, (k + 1) * 4096).reduce((a, b) => a + b, 0) / 4096);
    model.weights.loadStateDict({ ...model.weights.stateDict(), 'decoder.logits.bias': T.tensor(means.map((m) => -m)) });
    saveModel(path.join(dir, 'model.safetensors'), model, new BuiltinScenes({ size: 1, imageSize: 16, seed: 0 }));
    model.weights.dispose();
    const r = spawnSync(process.execPath, [CLI, 'export', '--checkpoint', path.join(dir, 'model.safetensors'), '--format', 'web', '--out', site], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    server = createStaticServer(site);
    const port = await listen(server, 0);
    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1000, height: 420 });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
  });

  after(async () => {
    await browser?.close();
    server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the page is cross-origin isolated (WASM threads) and lists every class', async () => {
    assert.equal(await page.evaluate('crossOriginIsolated'), true);
    assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), /Ready \(wasm, threads\)/);
    const meta = JSON.parse(fs.readFileSync(path.join(site, 'model.json'), 'utf8'));
    assert.deepEqual(meta.classNames, [...BUILTIN_CLASSES]);
  });

  for (const [h, w] of [[72, 100], [57, 90]]) it(`an image of ${h}x${w} through the page's file input: label map identical, logits within 1e-4 of onnxruntime-node`, async (t) => {
    const image = path.join(dir, `image-${h}x${w}.png`);
    await writeImage(image, h, w, h);
    await page.evaluate('window.segmentation = null');
    const input = await page.$('#file');
    await input!.uploadFile(image);
    await page.waitForFunction('window.segmentation !== null || document.body.dataset.state === "error"', { timeout: 60_000 });
    const result = await page.evaluate('window.segmentation') as PageResult | null;
    assert.ok(result, await page.$eval('#status', (e) => e.textContent ?? ''));
    assert.deepEqual([result.height, result.width], [h, w]);
    const session = await ort.InferenceSession.create(path.join(site, 'model.onnx'));
    const { logits, dims } = await nodeLogits(session, image);
    await session.release();
    assert.deepEqual(dims, [1, BUILTIN_CLASSES.length, h, w]);
    assert.equal(result.logits.length, logits.length);
    const diff = result.logits.reduce((m, v, i) => Math.max(m, Math.abs(v - logits[i])), 0);
    assert.ok(diff <= 1e-4, `max abs difference of the logits ${diff}`);
    assert.deepEqual(result.labels, argmax(logits, BUILTIN_CLASSES.length, h * w));
    assert.ok(new Set(result.labels).size > 1, 'a label map of one class checks little');
    t.diagnostic(`${h}x${w}: ${new Set(result.labels).size} classes in the label map, logits within ${diff.toExponential(2)}, the page's model time ${result.ms.toFixed(1)} ms`);
    assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), new RegExp(`${w}x${h}: the model took [0-9.]+ ms`));
  });
});
