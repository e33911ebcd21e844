/**
 * The searched-vs-random view (issue 12, item 7): every architecture's
 * held-out mIoU on one axis, the random ones grey, the searched one marked,
 * and the table behind it (comparison.json of src/train/baseline.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Comparison, COMPARISON_FILE, formatSummary, pairedBySeed } from '../train/baseline';
import { readJsonFile } from '../util/json';
import { esc } from './svg';
import { chart } from './vega';

export function isComparisonFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, COMPARISON_FILE));
}

export function readComparison(dir: string): Comparison {
  return readJsonFile(path.join(dir, COMPARISON_FILE), 'comparison') as Comparison;
}

/** A strip plot: one dot per architecture at its mIoU (%), the searched one red and labelled, names on hover. */
export function comparisonChart(c: Comparison): string {
  const values = c.entries.map((e) => ({ name: (c.seeds ?? []).length > 1 ? `seed ${e.seed} ${e.name}` : e.name, kind: e.kind === 'searched' ? 'searched' : 'random', mIoU: 100 * e.mIoU, pixelAccuracy: 100 * e.pixelAccuracy }));
  if (!values.length) return '<p class="empty">No architecture evaluated yet.</p>';
  const x = { field: 'mIoU', type: 'quantitative', title: 'held-out mIoU (%)', scale: { zero: false, padding: 20 } };
  const y = { field: 'kind', type: 'nominal', title: null, sort: ['searched', 'random'] };
  return chart({
    title: { text: 'held-out mIoU: the searched architecture vs random ones', subtitle: `${values.length - 1} random architectures, the same schedule and seed` },
    width: 560, height: { step: 40 }, data: { values }, encoding: { x, y },
    layer: [
      {
        mark: { type: 'circle', size: 90, opacity: 0.85 },
        encoding: {
          color: { field: 'kind', type: 'nominal', scale: { domain: ['searched', 'random'], range: ['#d62728', '#888'] }, legend: null },
          tooltip: [{ field: 'name', title: 'architecture' }, { field: 'mIoU', title: 'mIoU %', format: '.2f' }, { field: 'pixelAccuracy', title: 'pixel acc. %', format: '.2f' }],
        },
      },
      { transform: [{ filter: "datum.kind === 'searched'" }], mark: { type: 'text', dy: -14, color: '#d62728', fontSize: 11 }, encoding: { text: { field: 'mIoU', format: '.1f' } } },
    ],
  });
}

/** Over several seeds: each seed's searched and random mIoU (%), a line joining each seed's pair; the paired test in the subtitle. */
export function seedsChart(c: Comparison): string {
  const pairs = pairedBySeed(c);
  const values = c.entries.map((e) => ({ seed: String(e.seed), name: e.name, kind: e.kind, mIoU: 100 * e.mIoU, multiAdds: e.multiAdds / 1e9 }));
  const means = pairs.flatMap((p) => [{ seed: String(p.seed), kind: 'searched', mIoU: 100 * p.searched }, { seed: String(p.seed), kind: 'random mean', mIoU: 100 * p.random }]);
  return chart({
    title: { text: 'searched vs random at each seed', subtitle: formatSummary(c).trim().split('\n').map((l) => l.trim()) },
    width: 560, height: 260,
    layer: [
      { data: { values: means }, mark: { type: 'line', color: '#bbb' }, encoding: { x: { field: 'kind', type: 'nominal', sort: ['random mean', 'searched'], title: null }, y: { field: 'mIoU', type: 'quantitative', scale: { zero: false } }, detail: { field: 'seed' } } },
      {
        data: { values }, mark: { type: 'circle', size: 80, opacity: 0.85 },
        encoding: {
          x: { field: 'kind', type: 'nominal', title: null }, y: { field: 'mIoU', type: 'quantitative', title: 'held-out mIoU (%)' },
          color: { field: 'seed', type: 'nominal', title: 'seed' },
          tooltip: [{ field: 'seed' }, { field: 'name' }, { field: 'mIoU', format: '.2f' }, { field: 'multiAdds', title: 'B Multi-Adds', format: '.3f' }],
        },
      },
    ],
  });
}

export function comparisonSections(c: Comparison): string[] {
  const classes = Object.keys(c.entries[0]?.perClassIoU ?? {});
  const cell = (v: number | null) => `<td>${v === null ? '-' : (100 * v).toFixed(1)}</td>`;
  const rows = c.entries.map((e) => `<tr${e.kind === 'searched' ? ' style="color:#d62728;font-weight:bold"' : ''}><td>${e.seed ?? c.sampleSeed}</td><td>${esc(e.name)}</td>` +
    `<td>${(100 * e.mIoU).toFixed(2)}</td><td>${(100 * e.pixelAccuracy).toFixed(2)}</td>${classes.map((k) => cell(e.perClassIoU[k])).join('')}` +
    `<td>${e.multiAdds === undefined ? '-' : (e.multiAdds / 1e9).toFixed(3)}</td><td>${e.genotype.path.map((k) => 4 * 2 ** k).join(' ')}</td></tr>`).join('');
  return [
    `<h2>Searched vs random architectures</h2><p>Each architecture retrained with the same schedule and seed (F=${c.filterMultiplier}, ` +
      `${c.train.iterations} iterations, batch ${c.train.batchSize}, crop ${c.train.crop}) and evaluated on the same ${c.evalImages} held-out images; ` +
      `random ones drawn ${c.randomMode === 'uniform' ? 'uniformly over the space' : `uniformly among architectures whose Multi-Adds are within ${100 * (c.costBand ?? 0)}% of the searched one's`}; ` +
      `the table gives mIoU, pixel accuracy and each class's IoU in %.</p>`,
    comparisonChart(c),
    ...((c.seeds ?? []).length > 1 ? [seedsChart(c)] : []),
    `<table class="comparison"><tr><th>seed</th><th>architecture</th><th>mIoU %</th><th>pixel acc. %</th>${classes.map((k) => `<th>${esc(k)}</th>`).join('')}` +
      `<th>B Multi-Adds</th><th>path (output strides)</th></tr>${rows}</table>`,
  ];
}
