/**
 * The steps of `autodeeplab evidence`: each reruns one published figure with
 * the commands a user would type (child processes of this CLI, so that each
 * runs as it does for a user) and returns the data of docs/results/NAME.json.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { genotypeCost, MultiAddsTable } from '../budget/cost_table';
import { readGenotypeFile } from '../arch/genotype_file';
import { NetworkTrellis } from '../arch/trellis';
import { cheapestCost } from '../budget/constrained_decode';
import { Comparison, pairedBySeed } from '../train/baseline';
import { pairedTest } from '../util/paired';
import { bandStats, opFrequencies, readTrials } from '../report/trials_report';
import { NetworkFigure, QuickstartRun } from '../report/evidence_tables';
import { QUICKSTART } from './quickstart';

const MAIN = path.join(__dirname, 'main.js');
const BENCH = path.join(__dirname, '..', '..', 'bench', 'main.js');

export interface StepContext {
  out: string;
  quick: boolean;
  threads: number;
}

export interface StepOutput {
  commands: string[];
  data: Record<string, unknown>;
}

/** Runs `autodeeplab ARGS` (or a bench), progress to our stderr; returns stdout, stderr and the exit code. */
function cli(args: string[], o: { bench?: boolean; expectFail?: boolean } = {}): { stdout: string; stderr: string; status: number } {
  const r = spawnSync(process.execPath, [o.bench ? BENCH : MAIN, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', o.expectFail ? 'pipe' : 'inherit'], maxBuffer: 64 << 20 });
  const status = r.status ?? 1;
  if (status !== 0 && !o.expectFail) throw new Error(`evidence: \`${o.bench ? 'npm run bench --' : 'autodeeplab'} ${args.join(' ')}\` exited ${status}`);
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status };
}

const shown = (args: string[]) => `autodeeplab ${args.join(' ')}`;
const fresh = (dir: string) => fs.rmSync(dir, { recursive: true, force: true });

const figure = (c: Comparison, e: Comparison['entries'][number]): NetworkFigure => ({ name: e.name, path: e.genotype.path, mIoU: e.mIoU, multiAdds: e.multiAdds, seed: e.seed ?? c.sampleSeed });

function quickstart(x: StepContext): StepOutput {
  const runs: QuickstartRun[] = [];
  const commands: string[] = [];
  for (const seed of x.quick ? [0] : [0, 1, 2]) {
    const dir = path.join(x.out, `quickstart-${seed}`);
    fresh(dir);
    const args = ['quickstart', '--seed', String(seed), '--threads', String(x.threads), '--out', dir];
    const r = cli(args);
    commands.push(shown(args));
    const c = JSON.parse(fs.readFileSync(path.join(dir, 'compare', 'comparison.json'), 'utf8')) as Comparison;
    const time = /quickstart: (\d+) s in all \((.*); each retraining/.exec(r.stdout);
    const s = c.entries.find((e) => e.kind === 'searched')!;
    runs.push({
      seed, seconds: Number(time?.[1] ?? NaN), phases: time?.[2] ?? '', searched: { ...figure(c, s), pixelAccuracy: s.pixelAccuracy },
      random: c.entries.filter((e) => e.kind === 'random').map((e) => figure(c, e)),
    });
  }
  return { commands, data: { runs } };
}

/** The quickstart's retraining settings as a compare config file (compare has no --scale flag). */
function quickstartTrainConfig(file: string): void {
  const t = QUICKSTART.train;
  fs.writeFileSync(file, JSON.stringify({ iterations: t.iterations, batchSize: t.batchSize, crop: t.crop, lr: t.lr, scale: t.scale, seed: 0 }) + '\n');
}

/**
 * Seed 0 of the comparison is the quickstart's own pair (same genotype,
 * settings, seed and draw): its runs and entries are copied in, and compare
 * keeps them only if its settings turn out identical (else it retrains them).
 */
function reuseQuickstartSeed0(quickstartDir: string, dir: string): void {
  const qc = path.join(quickstartDir, 'compare');
  if (!fs.existsSync(path.join(qc, 'comparison.json'))) return;
  fs.cpSync(path.join(quickstartDir, 'train'), path.join(dir, 'seed-0', 'searched'), { recursive: true });
  for (const f of fs.readdirSync(qc).filter((f) => f.startsWith('random-'))) fs.cpSync(path.join(qc, f), path.join(dir, 'seed-0', f), { recursive: true });
  fs.copyFileSync(path.join(qc, 'comparison.json'), path.join(dir, 'comparison.json'));
}

function compare(x: StepContext): StepOutput {
  const genotype = path.join(x.out, 'quickstart-0', 'search', 'genotype.json');
  if (!fs.existsSync(genotype)) throw new Error(`evidence compare: ${genotype} is missing (the quickstart step writes it)`);
  const dir = path.join(x.out, 'compare');
  fresh(dir);
  fs.mkdirSync(dir, { recursive: true });
  reuseQuickstartSeed0(path.join(x.out, 'quickstart-0'), dir);
  const config = path.join(x.out, 'quickstart-train.json');
  quickstartTrainConfig(config);
  const t = QUICKSTART.train;
  const seeds = x.quick ? 3 : 5;
  const args = ['compare', '--genotype', genotype, '--seeds', String(seeds), '--random-baseline', '1', '--config', config,
    '--filter-multiplier', String(t.filterMultiplier), '--bn-momentum', String(t.bnMomentum), '--builtin-size', String(QUICKSTART.trainScenes),
    '--builtin-image-size', String(QUICKSTART.imageSize), '--val-size', String(QUICKSTART.valScenes), '--threads', String(x.threads), '--out', dir];
  const r = cli(args);
  const c = JSON.parse(fs.readFileSync(path.join(dir, 'comparison.json'), 'utf8')) as Comparison;
  const pairs = pairedBySeed(c);
  const p = pairedTest(pairs.map((q) => q.searched), pairs.map((q) => q.random));
  return {
    commands: [`echo '${fs.readFileSync(config, 'utf8').trim()}' > ${config}`, shown(args)],
    data: { entries: c.entries.map((e) => figure(c, e)), paired: { seeds: pairs.length, differences: p.differences, t: p.t, permutationP: p.permutationP, wins: p.wins }, stdout: r.stdout },
  };
}

function fig4(x: StepContext): StepOutput {
  const dir = path.join(x.out, 'fig4');
  fresh(dir);
  const args = ['trials', '--trials', '3', '--epochs', '4', '--arch-start-epoch', '2', '--layers', '4', '--blocks', '3', '--filter-multiplier', '2',
    '--crop', '48', '--batch-size', '4', '--builtin-size', '32', '--builtin-image-size', '48', '--threads', '1', '--out', dir];
  cli(args);
  const trials = readTrials(dir);
  const genotypes = trials.flatMap((t) => (t.genotype ? [t.genotype] : []));
  return {
    commands: [shown(args)],
    data: { band: bandStats(trials.map((t) => t.mIoU)), trials: trials.map((t) => ({ seed: t.seed, path: t.genotype?.path ?? [], mIoU: t.mIoU })), opShares: opFrequencies(genotypes) },
  };
}

function table2(): StepOutput {
  const presets = ['autodeeplab-s', 'autodeeplab-m', 'autodeeplab-l'].map((arch) => {
    const c = JSON.parse(cli(['cost', '--arch', arch, '--size', '1024x2048', '--json']).stdout) as { params: number; multiAdds: number };
    return { arch, params: c.params, multiAdds: c.multiAdds };
  });
  // pinned: layer 0 held at stride 4, so L - 1 free moves: the count the paper's 2.9 x 10^4 matches at L = 12.
  const paths = [4, 8, 12].map((layers) => ({ layers, count: new NetworkTrellis(layers).countPaths(), pinned: new NetworkTrellis(layers - 1).countPaths() }));
  return { commands: presets.map((p) => `autodeeplab cost --arch ${p.arch} --size 1024x2048 --json`), data: { presets, paths } };
}

function budget(x: StepContext): StepOutput {
  const table = (classes: number) => new MultiAddsTable({ filterMultiplier: 20, blocks: 5, numClasses: classes, size: [1024, 2048] });
  const cheapest = [12, 4].flatMap((layers) => [19, 6].map((classes) => ({ layers, classes, multiAdds: cheapestCost(new NetworkTrellis(layers), table(classes)) })));
  const dir = path.join(x.out, 'budget-200');
  fresh(dir);
  const args = ['search', '--budget', '200', '--out', dir];
  const r = cli(args, { expectFail: true });
  const message = r.stderr.trim().split('\n').pop() ?? '';
  return {
    commands: [shown(args)],
    data: { cheapest, stem: table(19).stem(), decoder19: table(19).decoder(true), refusal: { exitCode: r.status, message } },
  };
}

/** README's budget example: the same small search without and with --budget 240, each decoded network costed at the budget's size and F. */
function budgetSearch(x: StepContext): StepOutput {
  const base = ['--epochs', '6', '--arch-start-epoch', '2', '--layers', '6', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2',
    '--builtin-size', '16', '--builtin-image-size', '48', '--threads', '1', '--seed', '1'];
  const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 5, numClasses: 6, size: [1024, 2048] });
  const runs = [null, 240].map((limit) => {
    const dir = path.join(x.out, limit === null ? 'search-no-budget' : `search-budget-${limit}`);
    fresh(dir);
    const args = ['search', ...base, ...(limit === null ? [] : ['--budget', String(limit)]), '--out', dir];
    cli(args);
    const g = readGenotypeFile(path.join(dir, 'genotype.json')).genotype;
    return { command: shown(args), budget: limit, path: g.path, multiAdds: genotypeCost(table, g) };
  });
  return { commands: runs.map((r) => r.command), data: { runs } };
}

function bench(...args: string[]): (x: StepContext) => StepOutput {
  // A bench that cannot run here (e.g. the engine bench without python3-torch) is recorded with its exit code and message, not fatal.
  return () => {
    const r = cli(args, { bench: true, expectFail: true });
    return { commands: [`npm run bench -- ${args.join(' ')}`], data: { stdout: r.stdout, exitCode: r.status, stderrTail: r.status === 0 ? '' : r.stderr.trim().split('\n').slice(-3).join('\n') } };
  };
}

/** Every step, in the order they run (compare reads the quickstart's search); benches only without --quick. */
export const STEPS: { name: string; quick: boolean; run: (x: StepContext) => StepOutput }[] = [
  { name: 'table2', quick: true, run: table2 },
  { name: 'budget', quick: true, run: budget },
  { name: 'budget-search', quick: true, run: budgetSearch },
  { name: 'quickstart', quick: true, run: quickstart },
  { name: 'compare', quick: true, run: compare },
  { name: 'fig4', quick: true, run: fig4 },
  { name: 'bench-search', quick: false, run: bench('search') },
  { name: 'bench-engine', quick: false, run: bench('engine') },
  { name: 'bench-profile', quick: false, run: bench('profile', '--baseline') }, // before (the start) and now, side by side
];
