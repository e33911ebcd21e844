/**
 * The cost / accuracy trade-off of a trials folder: every trial's decoded
 * architecture as a point of its exact cost (of the retrained network, at the
 * budget's input size and F) against its mIoU, coloured by budget, beside the
 * budgets and the released Auto-DeepLab-S / M / L. A sweep over budgets
 * (`autodeeplab trials --budgets`) holds one trials folder per budget:
 *
 *   DIR/budget-<B>/trial-<seed>/           a search (config.json records the budget)
 *   DIR/budget-<B>/trial-<seed>/retrain/   its decoded genotype retrained (--retrain-iterations)
 *   DIR/latency-table.json                 the table of a --budget-ms sweep (its copy)
 *
 * mIoU is the retrained network's validation mIoU when it finished, else the
 * supernet's trainB mIoU at the last epoch; the plot and the table say which.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { genotypeCost, MultiAddsTable } from '../budget/cost_table';
import { AUTO_DEEPLAB_GENOTYPE, cellOfLayer } from '../arch/genotype';
import { LatencyTable, validateLatencyTable } from '../budget/latency_table';
import { readRunDir } from '../run/run_dir';
import { readJsonFile } from '../util/json';
import { RELEASED, releasedMultiAdds } from './budget';
import { scatter } from './charts';
import { esc } from './svg';
import { readTrials, Trial, trialsSections } from './trials_report';

export const BUDGET_PREFIX = 'budget-';
export const RETRAIN_DIR = 'retrain';
export const LATENCY_COPY = 'latency-table.json';
/** Where a search without a budget is costed: the paper's Table 2 setting (Cityscapes 1024x2048, Auto-DeepLab-S's F). */
export const DEFAULT_COST_SHAPE = Object.freeze({ size: [1024, 2048] as [number, number], filterMultiplier: 20 });

/** One budget's trials (label: the folder's budget; null for a plain trials folder). */
export interface TrialGroup { label: string | null; dir: string; trials: Trial[] }

interface Budget { limit: number; unit: 'multiAdds' | 'ms'; size: [number, number]; filterMultiplier: number }

export interface TradeoffPoint {
  group: string | null;
  seed: number;
  unit: 'multiAdds' | 'ms';
  /** Exact cost of the decoded architecture's retrained network, in the unit (Multi-Adds or ms). */
  cost: number;
  budget: Budget | null;
  mIoU: number;
  source: 'retrained' | 'supernet';
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#7f7f7f'];

/** The budget-<B> folders of a sweep holding trials, in increasing B; else the folder itself as one group. */
export function readGroups(dir: string): TrialGroup[] {
  const names = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => n.startsWith(BUDGET_PREFIX) && fs.statSync(path.join(dir, n)).isDirectory()) : [];
  const groups = names.map((n) => ({ label: n.slice(BUDGET_PREFIX.length), dir: path.join(dir, n), trials: readTrials(path.join(dir, n)) }))
    .filter((g) => g.trials.length > 0).sort((a, b) => Number(a.label) - Number(b.label));
  return groups.length ? groups : [{ label: null, dir, trials: readTrials(dir) }];
}

/** True when `dir` holds budget-<B>/trial-<seed>/ runs. */
export function isSweepFolder(dir: string): boolean {
  return !fs.existsSync(path.join(dir, 'metrics.jsonl')) && readGroups(dir)[0].label !== null;
}

/** Validation mIoU of a trial's finished retraining (its last validation line), or null. */
export function retrainedMIoU(trialDir: string): number | null {
  const dir = path.join(trialDir, RETRAIN_DIR);
  if (!fs.existsSync(path.join(dir, 'model.safetensors'))) return null;
  const vals = readRunDir(dir).metrics.filter((r) => r.type === 'validation');
  return vals.length ? (vals[vals.length - 1].mIoU as number) : null;
}

/**
 * A trial's point: Multi-Adds counted here from its genotype (at the budget's
 * size and F, or DEFAULT_COST_SHAPE without a budget); ms as the search
 * logged them from its latency table (the table is not in config.json).
 */
export function tradeoffPoint(t: Trial, group: string | null): TradeoffPoint | null {
  if (!t.genotype || !t.mIoU.length) return null;
  const budget = (t.config.budget as Budget | undefined) ?? null;
  const retrained = retrainedMIoU(t.dir);
  const y = retrained !== null ? { mIoU: retrained, source: 'retrained' as const } : { mIoU: t.mIoU[t.mIoU.length - 1], source: 'supernet' as const };
  if (budget?.unit === 'ms') return t.loggedCost === null ? null : { group, seed: t.seed, unit: 'ms', cost: t.loggedCost, budget, ...y };
  if (typeof t.config.numClasses !== 'number') return null; // the head's cost needs it
  const shape = budget ?? DEFAULT_COST_SHAPE;
  const blocks = cellOfLayer(t.genotype, 0).blocks.length;
  const table = new MultiAddsTable({ filterMultiplier: shape.filterMultiplier, blocks, numClasses: t.config.numClasses, size: shape.size });
  return { group, seed: t.seed, unit: 'multiAdds', cost: genotypeCost(table, t.genotype), budget, ...y };
}

/** The released S / M / L in the sweep's unit, or why they are not marked. */
function releasedMarkers(dir: string, first: TradeoffPoint, numClasses: number): { markers: [string, number][]; note: string } {
  if (first.unit === 'multiAdds') return { markers: releasedMultiAdds(numClasses, first.budget?.size ?? DEFAULT_COST_SHAPE.size), note: '' };
  const file = path.join(dir, LATENCY_COPY);
  if (!fs.existsSync(file)) return { markers: [], note: `S / M / L not marked: no ${LATENCY_COPY} in this folder to time them with.` };
  const table = new LatencyTable(validateLatencyTable(readJsonFile(file, 'report'), file));
  const released = RELEASED.filter(([, F]) => F === table.shape.filterMultiplier && table.shape.blocks === 5);
  // A latency table is measured at one F: only the released network of that F can be timed with it.
  return released.length ? { markers: released.map(([n]) => [n, genotypeCost(table, AUTO_DEEPLAB_GENOTYPE)]), note: '' }
    : { markers: [], note: `S / M / L not marked: the latency table was measured at F = ${table.shape.filterMultiplier}, B = ${table.shape.blocks}; the released networks have F = 20 / 32 / 48, B = 5.` };
}

const fmt = (v: number, unit: string) => (unit === 'ms' ? `${v.toFixed(2)} ms` : `${(v / 1e9).toFixed(2)} B`);
/** A budget as its line's name: as short as it was given (230 B, 12.5 ms). */
const short = (v: number, unit: string) => (unit === 'ms' ? `${+v.toFixed(3)} ms` : `${+(v / 1e9).toFixed(3)} B`);

/** The trade-off section of a trials folder or a sweep ([] when no trial has finished an epoch). */
export function tradeoffSections(dir: string, groups: TrialGroup[] = readGroups(dir)): string[] {
  const all = groups.flatMap((g) => g.trials.map((t) => tradeoffPoint(t, g.label)).filter((p): p is TradeoffPoint => p !== null));
  if (!all.length) return [];
  const unit = all[0].unit;
  const points = all.filter((p) => p.unit === unit);
  const scale = unit === 'ms' ? 1 : 1e-9;
  const colorOf = (g: string | null) => COLORS[Math.max(0, groups.findIndex((x) => x.label === g)) % COLORS.length];
  const budgetOf = (g: TrialGroup) => points.find((p) => p.group === g.label)?.budget ?? null;
  const labelled = groups.filter((g) => budgetOf(g));
  const { markers, note } = releasedMarkers(dir, points[0], groups.flatMap((g) => g.trials)[0].config.numClasses as number);
  const sources = new Set(points.map((p) => p.source));
  const yLabel = sources.size === 2 ? 'mIoU: retrained (disc), supernet trainB (ring)' : sources.has('retrained') ? 'retrained validation mIoU' : 'supernet trainB mIoU';
  const b = points[0].budget;
  const where = unit === 'ms' ? 'ms from the searches\' latency table' : `B Multi-Adds at ${(b?.size ?? DEFAULT_COST_SHAPE.size).join('x')}, F = ${b?.filterMultiplier ?? DEFAULT_COST_SHAPE.filterMultiplier}`;
  const groupName = (g: string | null) => {
    const grp = groups.find((x) => x.label === g);
    const lim = grp && budgetOf(grp)?.limit;
    return lim ? `budget ${short(lim, unit)}` : 'trials';
  };
  const plot = scatter({ title: `decoded architectures: cost and mIoU (${points.length} trials)`, subtitle: yLabel, x: where, y: 'mIoU (%)',
    points: points.map((p) => ({ x: p.cost * scale, y: 100 * p.mIoU, group: groupName(p.group), hollow: sources.size === 2 && p.source === 'supernet',
      label: `${p.budget ? `budget ${fmt(p.budget.limit, unit)}, ` : ''}seed ${p.seed}: ${fmt(p.cost, unit)}, mIoU ${(100 * p.mIoU).toFixed(2)} (${p.source})` })),
    markers: [...markers.map(([n, c]): [string, number] => [n, c * scale]), ...labelled.map((g): [string, number] => [short(budgetOf(g)!.limit, unit), budgetOf(g)!.limit * scale])],
    groups: [...new Set(points.map((p) => p.group))].map((g): [string, string] => [groupName(g), colorOf(g)]) });
  const rows = points.map((p) => `<tr><td>${p.budget ? fmt(p.budget.limit, unit) : '-'}</td><td>${p.seed}</td><td>${fmt(p.cost, unit)}</td>` +
    `<td>${(100 * p.mIoU).toFixed(2)}</td><td>${p.source}</td></tr>`).join('');
  const left = all.length - points.length;
  return [
    '<h2>Cost / accuracy trade-off</h2>',
    `<p>Each point is a trial's decoded architecture: the exact cost of its retrained network (${esc(where)}) against ` +
      `${sources.has('retrained') ? 'the retrained network\'s validation mIoU' : ''}${sources.size === 2 ? ' or, where it was not retrained, ' : ''}` +
      `${sources.has('supernet') ? 'the supernet\'s trainB mIoU at the last search epoch' : ''}. Dashed: ${markers.length ? 'the released networks, ' : ''}the budgets.` +
      `${note ? ` ${esc(note)}` : ''}${left ? ` ${left} trials of another cost unit left out.` : ''}</p>`,
    plot,
    `<table class="tradeoff"><tr><th>budget</th><th>seed</th><th>cost</th><th>mIoU %</th><th>mIoU of</th></tr>${rows}</table>`,
  ];
}

/** A sweep's report: the trade-off, then each budget's trials (band, architectures, choices). */
export function sweepSections(dir: string): string[] {
  const groups = readGroups(dir);
  return [...tradeoffSections(dir, groups), ...groups.flatMap((g) => {
    const b = g.trials[0].config.budget as Budget | undefined;
    return [`<h1 class="budget">Budget ${b ? fmt(b.limit, b.unit) : esc(g.label ?? '')}: ${g.trials.length} trials</h1>`, ...trialsSections(g.trials)];
  })];
}
