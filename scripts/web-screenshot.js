#!/usr/bin/env node
// The screenshot of docs/web.md: a model exported with `export --format web`,
// served by `serve`'s server, a built-in scene given to the page's file input
// in headless Chromium, the page photographed once it shows the segmentation.
//   node scripts/web-screenshot.js --checkpoint runs/t1/model.safetensors --out docs/img/web-page.png
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { parseArgs } = require('node:util');
const sharp = require('sharp');
const dist = path.resolve(__dirname, '..', 'dist', 'src');
const { BuiltinScenes } = require(path.join(dist, 'data', 'builtin'));
const { launchChromium } = require(path.join(dist, 'deploy', 'web', 'browser'));
const { createStaticServer, listen } = require(path.join(dist, 'deploy', 'web', 'server'));

async function main() {
  const { values: o } = parseArgs({ options: { checkpoint: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string', default: '3' }, size: { type: 'string', default: '192' } } });
  if (!o.checkpoint || !o.out) throw new Error('usage: node scripts/web-screenshot.js --checkpoint FILE --out PNG [--seed N] [--size PX]');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-web-shot-'));
  const site = path.join(dir, 'site');
  const r = spawnSync(process.execPath, [path.join(dist, 'cli', 'main.js'), 'export', '--checkpoint', o.checkpoint, '--format', 'web', '--out', site], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const scene = await new BuiltinScenes({ size: 1, imageSize: Number(o.size), seed: Number(o.seed) }).get(0);
  const image = path.join(dir, 'scene.png');
  await sharp(Buffer.from(scene.image), { raw: { width: scene.width, height: scene.height, channels: 3 } }).png().toFile(image);
  const server = createStaticServer(site);
  const port = await listen(server, 0);
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 900, height: 420 });
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 120_000 });
    await (await page.$('#file')).uploadFile(image);
    await page.waitForSelector('body[data-state=done]', { timeout: 120_000 });
    await page.screenshot({ path: o.out, fullPage: true });
    process.stdout.write(`${o.out}: ${await page.$eval('#status', (e) => e.textContent)}\n`);
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
main().catch((e) => {
  process.stderr.write(`web-screenshot: ${e.message}\n`);
  process.exit(1);
});
