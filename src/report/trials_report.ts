/**
 * Several searches of the same settings with different seeds (the paper's
 * Fig. 4: validation accuracy over the search epochs across 10 random
 * trials): a band (median, min-max) of each epoch's validation mIoU, each
 * trial's decoded architecture side by side, and how often each op and each
 * level was chosen. A trials folder holds one search run per `trial-<seed>/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellOfLayer, distinctCells, Genotype, STRIDES } from '../arch/genotype';
import { validateGenotype } from '../arch/genotype_file';
import { CELL_OPS } from '../arch/primitives';
import { NetworkTrellis } from '../arch/trellis';
import { readRunDir } from '../run/run_dir';
import { cellSvg, trellisSvg } from './diagrams';
import { heatmap, shareBars } from './charts';
import { esc } from './svg';
import { chart } from './vega';

export interface Trial {
  seed: number;
  dir: string;
  /** Validation (trainB) mIoU after each finished epoch, in epoch order. */
  mIoU: number[];
  /** The decoded architecture after the last finished epoch (null before the first). */
  genotype: Genotype | null;
  epochs: number;
  /** The search's config.json (its budget, class count, blocks). */
  config: Record<string, unknown>;
  /** A budgeted search: the exact cost of the last decoded architecture, as the search logged it (its table's unit). */
  loggedCost: number | null;
}

export interface BandPoint { epoch: number; median: number; min: number; max: number; trials: number }

export const TRIAL_PREFIX = 'trial-';

/** The median of a non-empty list (mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Per epoch (1-based), the median, min and max over the trials that reached it. */
export function bandStats(series: readonly (readonly number[])[]): BandPoint[] {
  const epochs = Math.max(0, ...series.map((s) => s.length));
  return Array.from({ length: epochs }, (_, e) => {
    const xs = series.filter((s) => s.length > e).map((s) => s[e]);
    return { epoch: e + 1, median: median(xs), min: Math.min(...xs), max: Math.max(...xs), trials: xs.length };
  });
}

/** The trials of a folder, by seed (folders named trial-<seed> holding a run's metrics). */
export function readTrials(dir: string): Trial[] {
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => new RegExp(`^${TRIAL_PREFIX}\\d+$`).test(n)) : [];
  return names
    .filter((n) => fs.existsSync(path.join(dir, n, 'metrics.jsonl')))
    .map((n) => {
      const run = readRunDir(path.join(dir, n));
      const epochs = run.metrics.filter((r) => r.type === 'epoch').sort((a, b) => (a.epoch as number) - (b.epoch as number));
      const last = epochs[epochs.length - 1];
      return {
        seed: Number(n.slice(TRIAL_PREFIX.length)), dir: run.dir, mIoU: epochs.map((r) => r.mIoU as number),
        genotype: last ? validateGenotype(last.genotype, `${run.dir}/metrics.jsonl`) : null, epochs: Number(run.config?.epochs ?? 0),
        config: run.config ?? {}, loggedCost: (last?.budget as { cost?: number } | undefined)?.cost ?? null,
      };
    })
    .sort((a, b) => a.seed - b.seed);
}

/** Fraction of branches using each op, over every block of every trial's cell. */
export function opFrequencies(genotypes: readonly Genotype[]): Record<string, number> {
  const branches = genotypes.flatMap((g) => g.path.flatMap((_, l) => cellOfLayer(g, l).blocks.flat())); // every layer's cell
  return Object.fromEntries(CELL_OPS.map((op) => [op, branches.filter((b) => b.op === op).length / Math.max(1, branches.length)]));
}

/** levels[l][k]: fraction of trials whose path puts layer l at level k. */
export function levelFrequencies(genotypes: readonly Genotype[]): number[][] {
  const L = Math.max(0, ...genotypes.map((g) => g.path.length));
  return Array.from({ length: L }, (_, l) => STRIDES.map((_, k) => genotypes.filter((g) => g.path[l] === k).length / Math.max(1, genotypes.length)));
}

/** The band chart: min-max shaded, median drawn, each trial a thin grey line (values in %; hover for each). */
export function bandChart(title: string, band: BandPoint[], series: readonly (readonly number[])[]): string {
  if (band.length === 0) return `<p class="empty">${esc(title)}: no finished epoch yet.</p>`;
  const x = { field: 'epoch', type: 'quantitative', title: 'search epoch', axis: { tickMinStep: 1, format: 'd' } };
  const y = { type: 'quantitative', title: 'mIoU (%)', scale: { zero: false } };
  const bandValues = band.map((p) => ({ epoch: p.epoch, median: 100 * p.median, min: 100 * p.min, max: 100 * p.max, trials: p.trials }));
  const trialValues = series.flatMap((s, i) => s.map((v, e) => ({ epoch: e + 1, mIoU: 100 * v, trial: `trial ${i + 1}` })));
  return chart({
    title: { text: title, subtitle: `median (green line), min-max (band), each trial (grey); ${series.length} trials` }, width: 560, height: 260,
    layer: [
      { data: { values: bandValues }, mark: { type: 'area', color: '#2ca02c', opacity: 0.25 }, encoding: { x, y: { ...y, field: 'min' }, y2: { field: 'max' } } },
      { data: { values: trialValues }, mark: { type: 'line', color: '#999', strokeWidth: 0.8 }, encoding: { x, y: { ...y, field: 'mIoU' }, detail: { field: 'trial' } } },
      {
        data: { values: bandValues }, mark: { type: 'line', color: '#1a7a1a', strokeWidth: 2.2, point: true },
        encoding: { x, y: { ...y, field: 'median' }, tooltip: [{ field: 'epoch' }, { field: 'median', format: '.2f' }, { field: 'min', format: '.2f' }, { field: 'max', format: '.2f' }, { field: 'trials' }] },
      },
    ],
  });
}

/** The HTML body of a trials folder's report. */
export function trialsSections(trials: Trial[]): string[] {
  const series = trials.map((t) => t.mIoU);
  const band = bandStats(series);
  const decoded = trials.filter((t) => t.genotype) as (Trial & { genotype: Genotype })[];
  const genotypes = decoded.map((t) => t.genotype);
  const freq = opFrequencies(genotypes);
  const trellis = new NetworkTrellis(genotypes[0]?.path.length ?? 0);
  const rows = band.map((p) => `<tr><td>${p.epoch}</td><td>${(100 * p.median).toFixed(2)}</td><td>${(100 * p.min).toFixed(2)}</td>` +
    `<td>${(100 * p.max).toFixed(2)}</td><td>${p.trials}</td></tr>`).join('');
  return [
    `<h2>Validation mIoU over the search epochs (Fig. 4)</h2>`, bandChart('validation (trainB) mIoU across trials', band, series),
    `<table class="band"><tr><th>epoch</th><th>median mIoU %</th><th>min</th><th>max</th><th>trials</th></tr>${rows}</table>`,
    `<h2>Decoded architectures</h2><div class="trials-grid">${decoded.map((t) => `<div><h3>seed ${t.seed} (${t.mIoU.length}/${t.epochs} epochs)</h3>` +
      `${trellisSvg(t.genotype)}${distinctCells(t.genotype).map((c) => cellSvg(c.cell)).join('')}</div>`).join('')}</div>`,
    `<h2>How often each choice was made</h2>`,
    shareBars({ title: 'share of the decoded cells\' branches using each op', x: 'share of branches', bars: CELL_OPS.map((op) => ({ name: op, share: freq[op] })) }),
    heatmap({ title: 'level chosen per layer: share of trials', rowTitle: 'layer', colTitle: 'output stride', colStep: 64,
      rows: genotypes[0]?.path.map((_, l) => `layer ${l + 1}`) ?? [], cols: STRIDES.map((st) => `stride ${st}`),
      subtitle: 'grey: a level the layer cannot reach', cells: levelFrequencies(genotypes).flatMap((row, l) => row.flatMap((value, k) =>
        (trellis.levelsAt(l).includes(k) ? [{ row: `layer ${l + 1}`, col: `stride ${STRIDES[k]}`, value }] : []))) }),
  ];
}

/** True when `dir` holds trial-<seed> run folders (and is not a run itself). */
export function isTrialsFolder(dir: string): boolean {
  return !fs.existsSync(path.join(dir, 'metrics.jsonl')) && readTrials(dir).length > 0;
}
