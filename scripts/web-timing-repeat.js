#!/usr/bin/env node
// One network (64x128, F = 8, 6 classes) timed in the browser in several launches, as latency-table --runtime web
// times it, printing every sample: the renderer's CPU time by thread name (a V8 compiler thread is a ThreadPoolForeg),
// the wall time, and each launch's median: what docs/web.md#what-was-measured reports on the outliers.
// usage: node scripts/web-timing-repeat.js GENOTYPE LAUNCHES SAMPLES "CHROMIUM FLAGS" [orig|quiet|long]
//   orig: the warm-up of src/deploy/web/runtime.ts; quiet: also until no compiler thread runs; long: 16 runs
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const D = path.resolve(__dirname, '..', 'dist', 'src');
const { exportOnnx } = require(`${D}/deploy/onnx`);
const { buildModel } = require(`${D}/model/presets`);
const { loadGenotype } = require(`${D}/arch/genotype_file`);
const { launchChromium } = require(`${D}/deploy/web/browser`);
const { PAGE_DIR, writeOrtFiles } = require(`${D}/deploy/web/export`);
const { createStaticServer, listen } = require(`${D}/deploy/web/server`);
const { EVERY_OP, rendererPids, safeRead, safeReaddir } = require(`${D}/deploy/web/runtime`);

const [gfile, launches, samples] = [process.argv[2], Number(process.argv[3] ?? 4), Number(process.argv[4] ?? 10)];
const flags = (process.argv[5] ?? '').split(' ').filter(Boolean);
const warm = process.argv[6] ?? 'orig';
function threadCpu(bp) {
  const m = new Map();
  for (const pid of rendererPids(bp)) for (const tid of safeReaddir(`/proc/${pid}/task`)) {
    const name = safeRead(`/proc/${pid}/task/${tid}/comm`).trim();
    m.set(`${tid}:${name}`, Number(safeRead(`/proc/${pid}/task/${tid}/schedstat`).split(' ')[0] || 0) / 1e6);
  }
  return m;
}
const byName = (a, b) => {
  const out = {};
  for (const [k, v] of b) { const d = v - (a.get(k) ?? 0); if (d > 0.5) { const n = k.split(':')[1]; out[n] = (out[n] ?? 0) + d; } }
  return out;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-rep-'));
  for (const f of ['bench.html', 'bench.js']) fs.copyFileSync(path.join(PAGE_DIR, f), path.join(dir, f));
  writeOrtFiles(dir);
  const g = loadGenotype(gfile, 'g');
  const model = buildModel({ genotype: g, filterMultiplier: 8, numClasses: 6 });
  exportOnnx((x) => model.forward(x, false), 64, 128, path.join(dir, 'net.onnx'), 'x');
  const wm = buildModel({ genotype: EVERY_OP, filterMultiplier: 8, numClasses: 19 });
  exportOnnx((x) => wm.forward(x, false), 64, 64, path.join(dir, 'warm.onnx'), 'x');
  const server = createStaticServer(dir);
  const base = `http://127.0.0.1:${await listen(server, 0)}`;
  const medians = [];
  for (let l = 0; l < launches; l++) {
    const t0 = Date.now();
    const browser = await launchChromium(flags);
    const bp = browser.process().pid;
    const page = await browser.newPage();
    await page.goto(`${base}/bench.html?threads=1&backend=wasm`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60000 });
    const time = async (file, dims, reps, verbose) => {
      const times = await page.evaluate(`load(${JSON.stringify(`${base}/${file}`)}, ${JSON.stringify(dims)})`);
      const cpu = []; const pool = [];
      for (let i = 0; i < reps; i++) {
        const a = threadCpu(bp); const tt = performance.now();
        const w = await page.evaluate(`sample(${times})`);
        const b = threadCpu(bp); const el = performance.now() - tt;
        let s = 0; for (const [k, v] of b) s += v - (a.get(k) ?? 0);
        cpu.push(s / times);
        let q = 0; for (const [k, v] of b) if (k.includes(':ThreadPool')) q += v - (a.get(k) ?? 0);
        pool.push(q / times);
        if (verbose) {
          const names = byName(a, b);
          console.log(`  s${i} x${times} cpu ${(s / times).toFixed(2)} wall ${w.toFixed(2)} el ${el.toFixed(0)} ` + Object.entries(names).map(([k, v]) => `${k}=${v.toFixed(0)}`).join(' '));
        }
      }
      await page.evaluate('unload()');
      time.pool = pool;
      return cpu;
    };
    let wi = 0; const wv = [];
    if (warm === 'quiet') {
      const until = Date.now() + 120000;
      for (let last = Infinity; Date.now() < until; wi++) {
        const [c] = await time('warm.onnx', [1, 3, 64, 64], 1, false);
        const q = time.pool[0];
        wv.push(`${c.toFixed(1)}/${q.toFixed(1)}`);
        if (Math.abs(c / last - 1) < 0.03 && q < 0.02 * c) break;
        last = c;
      }
    }
    if (warm === 'orig' || warm === 'long') {
      const until = Date.now() + 60000;
      for (let last = Infinity; Date.now() < until; wi++) {
        const [c] = await time('warm.onnx', [1, 3, 64, 64], 1, false);
        wv.push(c.toFixed(1));
        if (warm === 'orig' && Math.abs(c / last - 1) < 0.03) break;
        if (warm === 'long' && wi >= 15) break;
        last = c;
      }
    }
    console.log(`launch ${l}: start+warm ${(Date.now() - t0)} ms, warm-up ${wi} runs: ${wv.join(' ')}`);
    const cpu = await time('net.onnx', [1, 3, 64, 128], samples, true);
    medians.push(median(cpu));
    console.log(`launch ${l}: median of ${samples}: ${median(cpu).toFixed(2)}; median of first 5: ${median(cpu.slice(0, 5)).toFixed(2)}`);
    await browser.close();
  }
  model.weights.dispose(); wm.weights.dispose();
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
  console.log(`MEDIANS ${JSON.stringify(flags)} ${warm}: ${medians.map((m) => m.toFixed(2)).join(' ')}  spread ${(Math.max(...medians) / Math.min(...medians)).toFixed(3)}`);
})();
