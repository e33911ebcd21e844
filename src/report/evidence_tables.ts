/**
 * What each docs/results/NAME.json holds and the Markdown table it publishes
 * (src/report/evidence_docs.ts puts them in the docs; `autodeeplab evidence`
 * writes the files). Varying figures appear as ranges over seeds.
 */
import { spread } from '../util/paired';

export interface EvidenceMachine {
  cpu: string;
  threads: number;
  libtorch: string;
  blas: string;
  sgemmGflops: { oneThread: number; allThreads: number };
}

export interface EvidenceResult {
  name: string;
  /** ISO date of the run. */
  date: string;
  commit: string;
  quick: boolean;
  machine: EvidenceMachine;
  /** The commands that produced it, as a user types them (`autodeeplab` = node dist/src/cli/main.js). */
  commands: string[];
  data: Record<string, unknown>;
}

export interface NetworkFigure { name: string; path: readonly number[]; mIoU: number; multiAdds: number; seed: number }
export interface QuickstartRun { seed: number; seconds: number; phases: string; searched: NetworkFigure & { pixelAccuracy: number }; random: NetworkFigure[] }
export interface PairedFigures { seeds: number; differences: number[]; t: number | null; permutationP: number; wins: number }

const pc = (x: number) => (100 * x).toFixed(2);
const bn = (x: number) => (x / 1e9).toFixed(3);
const strides = (p: readonly number[]) => p.map((k) => 4 * 2 ** k).join(' ');
const range = (xs: number[], f: (x: number) => string) => (xs.length > 1 ? `${f(Math.min(...xs))}-${f(Math.max(...xs))}` : f(xs[0]));
const commands = (r: EvidenceResult) => r.commands.map((c) => `    ${c}`).join('\n');
const table = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

function quickstart(r: EvidenceResult): string {
  const runs = r.data.runs as QuickstartRun[];
  const rows = runs.flatMap((q) => [
    [String(q.seed), `${q.seconds} s (${q.phases})`, 'searched', strides(q.searched.path), bn(q.searched.multiAdds), '1', pc(q.searched.mIoU)],
    ...q.random.map((x) => ['', '', x.name, strides(x.path), bn(x.multiAdds), (x.multiAdds / q.searched.multiAdds).toFixed(3), pc(x.mIoU)]),
  ]);
  const s = runs.map((q) => q.searched.mIoU);
  const rnd = runs.flatMap((q) => q.random.map((x) => x.mIoU));
  return `${commands(r)}\n\n${table(['seed', 'time', 'network', 'path (output strides)', 'B Multi-Adds at 64x64', 'cost / searched', 'held-out mIoU %'], rows)}\n\n` +
    `Over ${runs.length} seed(s): searched mIoU ${range(s, pc)}%, equal-cost random ${rnd.length ? range(rnd, pc) : '-'}%; time ${range(runs.map((q) => q.seconds), String)} s.`;
}

function compare(r: EvidenceResult): string {
  const entries = r.data.entries as NetworkFigure[];
  const p = r.data.paired as PairedFigures;
  const searchedCost = (seed: number) => entries.find((e) => e.seed === seed && e.name === 'searched')!.multiAdds;
  const rows = entries.map((e) => [String(e.seed), e.name, strides(e.path), bn(e.multiAdds), (e.multiAdds / searchedCost(e.seed)).toFixed(3), pc(e.mIoU)]);
  const sum = (xs: number[]) => { const s = spread(xs); return `mean ${pc(s.mean)}, min ${pc(s.min)}, max ${pc(s.max)}, std ${pc(s.std)}`; };
  const s = entries.filter((e) => e.name === 'searched').map((e) => e.mIoU);
  const rnd = entries.filter((e) => e.name !== 'searched').map((e) => e.mIoU);
  return `${commands(r)}\n\n${table(['seed', 'network', 'path (output strides)', 'B Multi-Adds at 64x64', 'cost / searched', 'held-out mIoU %'], rows)}\n\n` +
    `Searched: ${sum(s)} %. Equal-cost random: ${sum(rnd)} %. Searched minus random per seed: ${p.differences.map((d) => (100 * d).toFixed(2)).join(', ')} points; ` +
    `paired t ${p.t === null ? '-' : p.t.toFixed(2)} (df ${p.seeds - 1}), exact sign-flip p ${p.permutationP.toFixed(3)} (two-sided; with ${p.seeds} seeds the smallest possible p is ${(2 / 2 ** p.seeds).toFixed(3)}); searched ahead at ${p.wins} of ${p.seeds} seeds.`;
}

function fig4(r: EvidenceResult): string {
  const band = r.data.band as { epoch: number; median: number; min: number; max: number }[];
  const trials = r.data.trials as { seed: number; path: number[] }[];
  const ops = r.data.opShares as Record<string, number>;
  return `${commands(r)}\n\n${table(['epoch', 'median trainB mIoU %', 'min %', 'max %'], band.map((b) => [String(b.epoch), pc(b.median), pc(b.min), pc(b.max)]))}\n\n` +
    `Decoded paths: ${trials.map((t) => `seed ${t.seed} ${strides(t.path)}`).join('; ')}. Share of branches per op: ` +
    `${Object.entries(ops).map(([k, v]) => `${k} ${(100 * v).toFixed(0)}%`).join(', ')}.`;
}

function table2(r: EvidenceResult): string {
  const presets = r.data.presets as { arch: string; params: number; multiAdds: number }[];
  const paths = r.data.paths as { layers: number; count: number; pinned: number }[];
  return `${commands(r)}\n\n${table(['preset', 'params', 'Multi-Adds at 1024x2048, 19 classes'], presets.map((p) => [p.arch, p.params.toLocaleString('en-US'), `${bn(p.multiAdds)} B`]))}\n\n` +
    `${table(['layers L', 'network-level paths as built (every layer may move)', 'with layer 0 pinned at stride 4 (L - 1 moves)'],
      paths.map((p) => [String(p.layers), p.count.toLocaleString('en-US'), p.pinned.toLocaleString('en-US')]))}`;
}

function budget(r: EvidenceResult): string {
  const cheapest = r.data.cheapest as { layers: number; classes: number; multiAdds: number }[];
  const refusal = r.data.refusal as { exitCode: number; message: string };
  return `${commands(r)}\n\n${table(['layers L', 'classes', 'cheapest architecture, B Multi-Adds (F = 20, 1024x2048)'], cheapest.map((c) => [String(c.layers), String(c.classes), bn(c.multiAdds)]))}\n\n` +
    `Stem ${bn(r.data.stem as number)} B; decoder at stride 4 with 19 classes ${bn(r.data.decoder19 as number)} B. ` +
    `\`search --budget 200\` on the built-in scenes (6 classes) exits ${refusal.exitCode}: "${refusal.message}"`;
}

function budgetSearch(r: EvidenceResult): string {
  const runs = r.data.runs as { budget: number | null; path: number[]; multiAdds: number }[];
  return `${commands(r)}\n\n${table(['budget', 'decoded path (output strides)', 'B Multi-Adds (F = 20, 1024x2048, 6 classes)'],
    runs.map((x) => [x.budget === null ? 'none' : `${x.budget} B`, strides(x.path), bn(x.multiAdds)]))}`;
}

function bench(r: EvidenceResult): string {
  const failed = r.data.exitCode ? `\n\nExited ${r.data.exitCode as number}: ${r.data.stderrTail as string}` : '';
  return `${commands(r)}\n\n\`\`\`\n${(r.data.stdout as string).trimEnd()}\n\`\`\`${failed}`;
}

export const RENDERERS: Record<string, (r: EvidenceResult) => string> = {
  quickstart, compare, fig4, table2, budget, 'budget-search': budgetSearch, 'bench-search': bench, 'bench-engine': bench, 'bench-profile': bench,
};
