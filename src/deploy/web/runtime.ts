/**
 * ONNX graphs timed in headless Chromium (onnxruntime-web, WASM), for
 * `latency-table --runtime web`: a folder with the timing page (web/bench.html)
 * and onnxruntime-web, served cross-origin isolated (WASM threads, a fine
 * clock); each graph is written into it, loaded by the page and timed in
 * samples: the page's wall clock (performance.now) and the CPU time of the
 * browser's renderer processes (every thread, WASM workers included, from
 * /proc/PID/task/TID/schedstat, in nanoseconds), which a busy machine does
 * not inflate by the waits of a preempted run. One browser per thread count,
 * kept open across parts and closed by closeBrowserRuntimes.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { Genotype } from '../../arch/genotype';
import { buildModel } from '../../model/presets';
import { exportOnnx } from '../onnx';
import { launchChromium } from './browser';
import { PAGE_DIR, writeOrtFiles } from './export';
import { createStaticServer, listen } from './server';

/** Every op of the search space, at every level, both ways (the warm-up network). */
export const EVERY_OP: Genotype = { version: 1, path: [0, 1, 2, 3, 2, 1, 0], cell: { blocks: [
  [{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'sep5x5' }],
  [{ input: 'prevPrev', op: 'atrous3x3' }, { input: 'prev', op: 'atrous5x5' }],
  [{ input: 'block0', op: 'avgpool3x3' }, { input: 'block1', op: 'maxpool3x3' }],
  [{ input: 'prev', op: 'skip' }, { input: 'block2', op: 'sep3x3' }],
] } } as Genotype;

/**
 * The timing browser's flags. By default V8 runs WASM as Liftoff (baseline) code and swaps in TurboFan code for the
 * functions that get hot, compiled in background threads: which functions, and when, differs from one launch to the
 * next, and the compiler's threads count in the renderer's CPU time. The same network measured 67, 76 and 138 ms in
 * three launches so (the last with 70 ms of compiling in every sample; docs/web.md#what-was-measured). --no-liftoff
 * compiles every function with TurboFan when onnxruntime's WASM is instantiated (about 2 min on 2 cores, once per
 * browser): the same code in every launch, nothing compiled while timing.
 */
export const TIMING_FLAGS = ['--js-flags=--no-liftoff'];
/** Longest a call into the timing page may take: the first one compiles onnxruntime's WASM (above). */
const PAGE_CALL_TIMEOUT_MS = 15 * 60_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** A /proc file, or '' when its process or thread has ended. */
export const safeRead = (f: string) => {
  try {
    return fs.readFileSync(f, 'utf8');
  } catch {
    return ''; // a thread or process that ended meanwhile
  }
};
export const safeReaddir = (d: string) => {
  try {
    return fs.readdirSync(d);
  } catch {
    return [];
  }
};

/** Chromium's renderer processes below the browser's process (Linux /proc). */
export function rendererPids(browserPid: number): number[] {
  return safeReaddir('/proc').filter((p) => /^\d+$/.test(p)).map(Number)
    .filter((pid) => isBelow(pid, browserPid) && safeRead(`/proc/${pid}/cmdline`).includes('--type=renderer'));
}

/** Whether pid is browserPid's descendant (Chromium's zygote stands between them). */
function isBelow(pid: number, ancestor: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 8; i++) {
    const stat = safeRead(`/proc/${p}/stat`); // pid (comm) state ppid ...
    p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (p === ancestor) return true;
  }
  return false;
}

class BrowserRuntime {
  private count = 0;
  private constructor(private readonly dir: string, private readonly server: http.Server, private readonly browser: Browser, private readonly page: Page, private readonly base: string) {}

  static async start(threads: number): Promise<BrowserRuntime> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-web-latency-'));
    for (const f of ['bench.html', 'bench.js']) fs.copyFileSync(path.join(PAGE_DIR, f), path.join(dir, f));
    writeOrtFiles(dir);
    const server = createStaticServer(dir);
    const base = `http://127.0.0.1:${await listen(server, 0)}`;
    const browser = await launchChromium(TIMING_FLAGS, PAGE_CALL_TIMEOUT_MS);
    const page = await browser.newPage();
    await page.goto(`${base}/bench.html?threads=${threads}&backend=wasm`);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
    if (threads > 1 && !(await page.evaluate('crossOriginIsolated'))) throw new Error('latency-table --runtime web: the timing page is not cross-origin isolated, so WASM runs one thread');
    const runtime = new BrowserRuntime(dir, server, browser, page, base);
    await runtime.warmUp();
    return runtime;
  }

  /**
   * The first run compiles onnxruntime's WASM (TIMING_FLAGS); then a network
   * with every op runs until two samples in a row agree within 3% (at most
   * 60 s), so that the first part timed meets the same warm caches and grown
   * WASM memory as the others.
   */
  private async warmUp(): Promise<void> {
    const file = path.join(this.dir, 'warm-up.onnx');
    const model = buildModel({ genotype: EVERY_OP, filterMultiplier: 8, numClasses: 19 });
    try {
      exportOnnx((x) => model.forward(x, false), 64, 64, file, 'autodeeplab latency-table warm-up');
    } finally {
      model.weights.dispose();
    }
    const until = Date.now() + 60_000;
    for (let last = Infinity; Date.now() < until;) {
      const { cpu } = await this.time(file, [1, 3, 64, 64], 1);
      if (Math.abs(cpu / last - 1) < 0.03) break;
      last = cpu;
    }
  }

  /** The renderer processes' CPU time in milliseconds, every thread summed. */
  private rendererCpuMs(): number {
    let ns = 0;
    for (const pid of rendererPids(this.browser.process()!.pid!)) {
      for (const tid of safeReaddir(`/proc/${pid}/task`)) ns += Number(safeRead(`/proc/${pid}/task/${tid}/schedstat`).split(' ')[0] || 0);
    }
    return ns / 1e6;
  }

  /** Milliseconds of one run of the ONNX file on inputs of `dims` by both clocks (medians of `repeats` samples), in the page. */
  async time(onnxFile: string, dims: number[], repeats: number): Promise<{ wall: number; cpu: number }> {
    const name = `graph${this.count++}.onnx`;
    fs.copyFileSync(onnxFile, path.join(this.dir, name));
    try {
      const times = (await this.page.evaluate(`load(${JSON.stringify(`${this.base}/${name}`)}, ${JSON.stringify(dims)})`)) as number;
      const [wall, cpu]: number[][] = [[], []];
      for (let i = 0; i < repeats; i++) {
        const c = this.rendererCpuMs();
        wall.push((await this.page.evaluate(`sample(${times})`)) as number);
        cpu.push((this.rendererCpuMs() - c) / times);
      }
      await this.page.evaluate('unload()');
      return { wall: median(wall), cpu: median(cpu) };
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
