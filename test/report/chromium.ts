/**
 * A report rendered in headless Chromium (Debian's `chromium`): the page's
 * own check (report.html?check, src/report/page.ts) read back from the DOM,
 * and screenshots. Used by the rendering test and scripts/report-screenshots.js.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HeatmapCheck {
  title: string;
  rows: { row: string; weakest: { col: string; value: number; fill: string }; strongest: { col: string; value: number; fill: string } }[];
}

export interface PageCheck {
  charts: number;
  svgTexts: number;
  overflow: string[];
  overlaps: string[];
  heatmaps: HeatmapCheck[];
  pageHeight: number;
}

export const WINDOW_WIDTH = 1280;

function chromium(args: string[]): string {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-chromium-'));
  try {
    const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--hide-scrollbars', `--user-data-dir=${profile}`, '--virtual-time-budget=20000', ...args],
    { encoding: 'utf8', timeout: 90_000, maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`chromium exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** The page's self-check after its charts are drawn (throws with the page's error when a chart failed). */
export function checkPage(htmlFile: string, height = 900): PageCheck {
  const dom = chromium([`--window-size=${WINDOW_WIDTH},${height}`, '--dump-dom', `file://${path.resolve(htmlFile)}?check`]);
  const error = /<body[^>]* data-error="([^"]*)"/.exec(dom);
  if (error) throw new Error(`${htmlFile}: the page failed: ${error[1]}`);
  const m = /<pre id="report-check">(.*?)<\/pre>/s.exec(dom);
  if (!m) throw new Error(`${htmlFile}: no self-check in the rendered page`);
  return JSON.parse(m[1].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&')) as PageCheck;
}

/** A screenshot of the whole page (its height from the self-check). */
export function screenshot(htmlFile: string, png: string): void {
  const { pageHeight } = checkPage(htmlFile);
  chromium([`--window-size=${WINDOW_WIDTH},${Math.min(16000, pageHeight + 16)}`, `--screenshot=${path.resolve(png)}`, `file://${path.resolve(htmlFile)}`]);
}

/** [r, g, b] of a CSS colour as Vega writes fills: rgb(r, g, b) or #rrggbb. */
export function rgbOf(fill: string): [number, number, number] {
  const m = /^rgb\((\d+),\s*(\d+),\s*(\d+)\)$/.exec(fill);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  const h = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(fill);
  if (h) return [parseInt(h[1], 16), parseInt(h[2], 16), parseInt(h[3], 16)];
  throw new Error(`not a colour: ${fill}`);
}
