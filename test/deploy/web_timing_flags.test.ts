/**
 * The timing browser of `latency-table --runtime web` (src/deploy/web/runtime.ts)
 * compiles WASM with TurboFan only: its V8 flag reaches the renderer process,
 * where V8 runs, and the CPU time it reads is that renderer's (/proc, the
 * oracle: the renderer's own command line), and Chromium runs without the
 * tcmalloc that node runs with (its own /proc maps).
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { Browser } from 'puppeteer-core';
import { launchChromium } from '../../src/deploy/web/browser';
import { rendererPids, TIMING_FLAGS } from '../../src/deploy/web/runtime';

describe('latency-table --runtime web: the timing browser\'s flags', () => {
  let browser: Browser;

  before(async () => {
    browser = await launchChromium(TIMING_FLAGS);
    await (await browser.newPage()).goto('about:blank');
  });

  after(async () => {
    await browser?.close();
  });

  it('the page\'s renderer process runs V8 with --no-liftoff (TurboFan only: no code tiered up while timing)', () => {
    const pids = rendererPids(browser.process()!.pid!);
    assert.ok(pids.length >= 1, 'no renderer process found below the browser');
    for (const pid of pids) {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/); // Chromium rewrites its title: one string with spaces
      assert.ok(args.includes('--js-flags=--no-liftoff'), `renderer ${pid}: ${args.filter((a) => a.startsWith('--js')).join(' ') || 'no --js-flags'}`);
    }
  });

  it('the browser runs without the tcmalloc that bin/node-tcmalloc preloads into node (Chromium has its own allocator)', () => {
    const pids = [browser.process()!.pid!, ...rendererPids(browser.process()!.pid!)];
    for (const pid of pids) assert.doesNotMatch(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'), /libtcmalloc/, `process ${pid} maps tcmalloc`);
  });
});
