/**
 * ONNX graphs timed in headless Chromium (onnxruntime-web, WASM), for
 * `latency-table --runtime web`: a folder with the timing page (web/bench.html)
 * and onnxruntime-web, served cross-origin isolated (WASM threads, a fine
 * clock); each graph is written into it and timed by the page
 * (window.timeModel), which reports the milliseconds back. One browser per
 * thread count, kept open across parts and closed by closeBrowserRuntimes.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium } from './browser';
import { PAGE_DIR, writeOrtFiles } from './export';
import { createStaticServer, listen } from './server';

class BrowserRuntime {
  private count = 0;
  private constructor(private readonly dir: string, private readonly server: http.Server, private readonly browser: Browser, private readonly page: Page, private readonly base: string) {}

  static async start(threads: number): Promise<BrowserRuntime> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-web-latency-'));
    for (const f of ['bench.html', 'bench.js']) fs.copyFileSync(path.join(PAGE_DIR, f), path.join(dir, f));
    writeOrtFiles(dir);
    const server = createStaticServer(dir);
    const base = `http://127.0.0.1:${await listen(server, 0)}`;
    const browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`${base}/bench.html?threads=${threads}&backend=wasm`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
    if (threads > 1 && !(await page.evaluate('crossOriginIsolated'))) throw new Error('latency-table --runtime web: the timing page is not cross-origin isolated, so WASM runs one thread');
    return new BrowserRuntime(dir, server, browser, page, base);
  }

  /** Milliseconds of one run of the ONNX file on inputs of `dims` (median of `repeats` samples), in the page. */
  async time(onnxFile: string, dims: number[], repeats: number): Promise<number> {
    const name = `graph${this.count++}.onnx`;
    fs.copyFileSync(onnxFile, path.join(this.dir, name));
    try {
      return (await this.page.evaluate(`timeModel(${JSON.stringify(`${this.base}/${name}`)}, ${JSON.stringify(dims)}, ${repeats})`)) as number;
    } finally {
      fs.rmSync(path.join(this.dir, name), { force: true });
    }
  }

  async close(): Promise<void> {
    await this.browser.close();
    this.server.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const runtimes = new Map<number, Promise<BrowserRuntime>>();

/** The browser that times graphs with `threads` WASM threads (started on first use). */
export function browserRuntime(threads: number): Promise<BrowserRuntime> {
  if (!runtimes.has(threads)) runtimes.set(threads, BrowserRuntime.start(threads));
  return runtimes.get(threads)!;
}

/** Closes every browser started by browserRuntime (else the process keeps running). */
export async function closeBrowserRuntimes(): Promise<void> {
  const all = [...runtimes.values()];
  runtimes.clear();
  for (const r of all) await (await r).close();
}
