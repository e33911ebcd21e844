/**
 * Several searches of the same settings with different seeds (the paper's
 * Fig. 4: validation accuracy over the search epochs across 10 random
 * trials): a band (median, min-max) of each epoch's validation mIoU, each
 * trial's decoded architecture side by side, and how often each op and each
 * level was chosen. A trials folder holds one search run per `trial-<seed>/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cellOfLayer, distinctCells, Genotype, STRIDES, validateGenotype } from '../arch/genotype';
import { CELL_OPS } from '../arch/random';
import { readRunDir } from '../run/run_dir';
import { cellSvg, trellisSvg } from './diagrams';
import { esc, heatmap, svg } from './svg';

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

/** The band chart: min-max shaded, median drawn, each trial a thin line. */
export function bandChart(title: string, band: BandPoint[], series: readonly (readonly number[])[], width = 560, height = 280): string {
  if (band.length === 0) return svg(width, 60, [`<text x="10" y="35" font-size="13">${esc(title)}: no finished epoch yet</text>`]);
  const pad = { l: 56, r: 16, t: 28, b: 40 };
  const y0 = Math.min(...band.map((p) => p.min));
  const y1 = Math.max(...band.map((p) => p.max));
  const sx = (e: number) => pad.l + ((e - 1) / Math.max(1, band.length - 1)) * (width - pad.l - pad.r);
  const sy = (v: number) => height - pad.b - ((v - y0) / (y1 - y0 || 1)) * (height - pad.t - pad.b);
  const pts = (xs: [number, number][]) => xs.map(([e, v]) => `${sx(e).toFixed(1)},${sy(v).toFixed(1)}`).join(' ');
  const body = [
    `<text x="${width / 2}" y="18" font-size="14" text-anchor="middle">${esc(title)}</text>`,
    `<line x1="${pad.l}" y1="${height - pad.b}" x2="${width - pad.r}" y2="${height - pad.b}" stroke="#444"/>`,
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${height - pad.b}" stroke="#444"/>`,
    `<text x="${width / 2}" y="${height - 8}" font-size="12" text-anchor="middle">search epoch</text>`,
    `<polygon class="band" fill="#2ca02c" fill-opacity="0.25" stroke="none" points="${pts([...band.map((p) => [p.epoch, p.max] as [number, number]), ...[...band].reverse().map((p) => [p.epoch, p.min] as [number, number])])}"/>`,
    ...series.map((s) => `<polyline class="trial" fill="none" stroke="#999" stroke-width="0.8" points="${pts(s.map((v, e) => [e + 1, v]))}"/>`),
    `<polyline class="median" fill="none" stroke="#1a7a1a" stroke-width="2.2" points="${pts(band.map((p) => [p.epoch, p.median]))}"/>`,
    `<text x="${pad.l + 10}" y="${pad.t + 8}" font-size="11">median (line), min-max (band), each trial (grey); ${series.length} trials</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = y0 + ((y1 - y0) * i) / 4;
    body.push(`<text x="${pad.l - 6}" y="${sy(v) + 4}" font-size="10" text-anchor="end">${v.toPrecision(3)}</text>`);
  }
  band.forEach((p) => body.push(`<text x="${sx(p.epoch)}" y="${height - pad.b + 14}" font-size="10" text-anchor="middle">${p.epoch}</text>`));
  return svg(width, height, body, title);
}

/** The HTML body of a trials folder's report. */
export function trialsSections(trials: Trial[]): string[] {
  const series = trials.map((t) => t.mIoU);
  const band = bandStats(series);
  const decoded = trials.filter((t) => t.genotype) as (Trial & { genotype: Genotype })[];
  const genotypes = decoded.map((t) => t.genotype);
  const freq = opFrequencies(genotypes);
  const rows = band.map((p) => `<tr><td>${p.epoch}</td><td>${(100 * p.median).toFixed(2)}</td><td>${(100 * p.min).toFixed(2)}</td>` +
    `<td>${(100 * p.max).toFixed(2)}</td><td>${p.trials}</td></tr>`).join('');
  return [
    `<h2>Validation mIoU over the search epochs (Fig. 4)</h2>`, bandChart('validation (trainB) mIoU across trials', band, series),
    `<table class="band"><tr><th>epoch</th><th>median mIoU %</th><th>min</th><th>max</th><th>trials</th></tr>${rows}</table>`,
    `<h2>Decoded architectures</h2><table class="trials"><tr>${decoded.map((t) => `<th>seed ${t.seed} (${t.mIoU.length}/${t.epochs} epochs)</th>`).join('')}</tr>` +
      `<tr>${decoded.map((t) => `<td>${trellisSvg(t.genotype)}</td>`).join('')}</tr><tr>${decoded.map((t) => `<td>${distinctCells(t.genotype).map((c) => cellSvg(c.cell)).join('')}</td>`).join('')}</tr></table>`,
    `<h2>How often each choice was made</h2>`,
    `<table class="ops"><tr><th>op</th><th>share of branches</th></tr>${CELL_OPS.map((op) => `<tr><td>${op}</td><td>${(100 * freq[op]).toFixed(1)}%</td></tr>`).join('')}</table>`,
    heatmap('level chosen per layer: share of trials', levelFrequencies(genotypes), genotypes[0]?.path.map((_, l) => `layer ${l + 1}`) ?? [],
      STRIDES.map((s) => `stride ${s}`), 22),
  ];
}

/** True when `dir` holds trial-<seed> run folders (and is not a run itself). */
export function isTrialsFolder(dir: string): boolean {
  return !fs.existsSync(path.join(dir, 'metrics.jsonl')) && readTrials(dir).length > 0;
}
