/**
 * Headless Chromium driven from Node (puppeteer-core): the installed browser
 * (Debian's chromium; `npm test` installs it, scripts/setup.sh --with-browser),
 * never a downloaded one. For the web page's test and the browser's latency table.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { BadInputError } from '../../util/errors';
import { withoutPreloadedMalloc } from '../../util/preload';

/** The browser: $CHROMIUM, else chromium or chromium-browser on PATH. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    for (const name of ['chromium', 'chromium-browser']) {
      const p = path.join(dir, name);
      if (fs.existsSync(p)) return p;
    }
  }
  throw new BadInputError('no Chromium found: install Debian\'s chromium (bash scripts/setup.sh --with-browser) or set CHROMIUM to the browser\'s path');
}

/** A headless Chromium; flags: extra command-line flags; protocolTimeoutMs: the longest a page.evaluate may take. */
export async function launchChromium(flags: string[] = [], protocolTimeoutMs = 180_000): Promise<Browser> {
  const puppeteer = await import('puppeteer-core');
  return puppeteer.launch({
    executablePath: chromiumPath(), headless: true, protocolTimeout: protocolTimeoutMs,
    // Without the tcmalloc that bin/node-tcmalloc preloads into node: Chromium has its own allocator.
    env: withoutPreloadedMalloc(process.env),
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...flags],
  });
}
