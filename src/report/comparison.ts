/**
 * The searched-vs-random view (issue 12, item 7): every architecture's
 * held-out mIoU on one axis, the random ones grey, the searched one marked,
 * and the table behind it (comparison.json of src/train/baseline.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Comparison, COMPARISON_FILE } from '../train/baseline';
import { readJsonFile } from '../util/json';
import { esc, svg } from './svg';

export function isComparisonFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPARISON_FILE));
}

export function readComparison(dir: string): Comparison {
  return readJsonFile(path.join(dir, COMPARISON_FILE), 'comparison') as Comparison;
}

/** A strip plot: one dot per architecture at its mIoU (%), the searched one red, labelled. */
export function comparisonChart(c: Comparison, width = 560, height = 150): string {
  const pad = { l: 40, r: 24 };
  const values = c.entries.map((e) => 100 * e.mIoU);
  if (values.length === 0) return svg(width, 60, ['<text x="10" y="35" font-size="13">no architecture evaluated yet</text>']);
  const lo = Math.floor(Math.min(...values) / 5) * 5;
  const hi = Math.max(lo + 5, Math.ceil(Math.max(...values) / 5) * 5);
  const sx = (v: number) => pad.l + ((v - lo) / (hi - lo)) * (width - pad.l - pad.r);
  const axisY = 100;
  const body = [
    `<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">held-out mIoU (%): searched (red) vs ${values.length - 1} random (grey)</text>`,
    `<line x1="${pad.l}" y1="${axisY}" x2="${width - pad.r}" y2="${axisY}" stroke="#444"/>`,
  ];
  for (let t = lo; t <= hi; t += 5) {
    body.push(`<line x1="${sx(t)}" y1="${axisY}" x2="${sx(t)}" y2="${axisY + 4}" stroke="#444"/>`,
      `<text x="${sx(t)}" y="${axisY + 16}" font-size="10" text-anchor="middle">${t}</text>`);
  }
  c.entries.forEach((e, i) => {
    const x = sx(100 * e.mIoU).toFixed(1);
    if (e.kind === 'searched') {
      body.push(`<circle class="searched" cx="${x}" cy="${axisY - 30}" r="7" fill="#d62728"><title>${esc(e.name)}: ${(100 * e.mIoU).toFixed(2)}</title></circle>`,
        `<text x="${x}" y="${axisY - 44}" font-size="11" text-anchor="middle" fill="#d62728">searched ${(100 * e.mIoU).toFixed(1)}</text>`);
    } else {
      body.push(`<circle class="random" cx="${x}" cy="${axisY - 12 - (i % 3) * 6}" r="5" fill="#888" fill-opacity="0.8"><title>${esc(e.name)}: ${(100 * e.mIoU).toFixed(2)}</title></circle>`);
    }
  });
  return svg(width, height, body, 'searched vs random');
}

export function comparisonSections(c: Comparison): string[] {
  const classes = Object.keys(c.entries[0]?.perClassIoU ?? {});
  const cell = (v: number | null) => `<td>${v === null ? '-' : (100 * v).toFixed(1)}</td>`;
  const rows = c.entries.map((e) => `<tr${e.kind === 'searched' ? ' style="color:#d62728;font-weight:bold"' : ''}><td>${esc(e.name)}</td>` +
    `<td>${(100 * e.mIoU).toFixed(2)}</td><td>${(100 * e.pixelAccuracy).toFixed(2)}</td>${classes.map((k) => cell(e.perClassIoU[k])).join('')}` +
    `<td>${e.genotype.path.map((k) => 4 * 2 ** k).join(' ')}</td></tr>`).join('');
  return [
    `<h2>Searched vs random architectures</h2><p>Each architecture retrained with the same schedule and seed (F=${c.filterMultiplier}, ` +
      `${c.train.iterations} iterations, batch ${c.train.batchSize}, crop ${c.train.crop}) and evaluated on the same ${c.evalImages} held-out images.</p>`,
    comparisonChart(c),
    `<table class="comparison"><tr><th>architecture</th><th>mIoU %</th><th>pixel acc. %</th>${classes.map((k) => `<th>${esc(k)}</th>`).join('')}` +
      `<th>path (output strides)</th></tr>${rows}</table>`,
  ];
}
