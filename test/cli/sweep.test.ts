/**
 * `autodeeplab trials --budgets`: one search per (budget, seed) in
 * OUT/budget-<B>/trial-<seed>/, each decoded genotype retrained into its
 * retrain/ folder, finished ones skipped when the command is run again, and
 * the report's trade-off drawn from the folder.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { genotypeCost, MultiAddsTable } from '../../src/budget/cost_table';
import { validateGenotype } from '../../src/arch/genotype_file';
import { NetworkTrellis } from '../../src/arch/trellis';
import { openDataset } from '../../src/data/registry';
import { cheapestCost } from '../../src/budget/constrained_decode';
import { trainArgs } from '../../src/trials/runner';
import { assembleTable } from '../../src/deploy/latency';
import { readTrials } from '../../src/report/trials_report';
import { specsOf } from '../../src/report/vega';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const TINY_SEARCH = ['--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '2', '--blocks', '2', '--filter-multiplier', '2',
  '--batch-size', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];
const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(...p), 'utf8'));
/** A search still running a few seconds after it starts. */
const SLOW_SEARCH = ['--epochs', '30', ...TINY_SEARCH.slice(2)];
const numClasses = () => openDataset('builtin', { split: 'train', builtinSize: 1 }).numClasses;
/** Billions of Multi-Adds of the cheapest network of TINY_SEARCH's space (L = 2, B = 2) at the budget's default F and size. */
const cheapestBillions = () => cheapestCost(new NetworkTrellis(2), new MultiAddsTable({ filterMultiplier: 20, blocks: 2, numClasses: numClasses(), size: [1024, 2048] })) / 1e9;
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Stopped { status: number | null; stdout: string; stderr: string; childPid: number; childAliveAtExit: boolean; lockAtExit: boolean }

/**
 * Runs `autodeeplab trials` in its own process group, waits until its search
 * holds lockFile (its run folder's lock: the search's stop handler is set by
 * then), sends `signal` to trials alone or to the whole group (a terminal's
 * Ctrl-C), and resolves when trials exits: whether the search was still alive
 * and its lock still there at that moment. No signal: only watches.
 */
function trialsUntilExit(args: string[], lockFile: string, signal?: NodeJS.Signals, group = false): Promise<Stopped> {
  const p = spawn(process.execPath, [CLI, 'trials', ...args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d) => (stdout += d));
  p.stderr.on('data', (d) => (stderr += d));
  let childPid = NaN;
  const poll = setInterval(() => {
    if (!Number.isNaN(childPid) || !fs.existsSync(lockFile)) return;
    childPid = Number.parseInt(fs.readFileSync(lockFile, 'utf8'), 10);
    if (!Number.isNaN(childPid) && signal) process.kill(group ? -p.pid! : p.pid!, signal);
  }, 20);
  return new Promise((resolve) => {
    p.once('exit', (status) => {
      clearInterval(poll);
      const childAliveAtExit = !Number.isNaN(childPid) && isAlive(childPid);
      const lockAtExit = fs.existsSync(lockFile);
      p.once('close', () => resolve({ status, stdout, stderr, childPid, childAliveAtExit, lockAtExit }));
    });
  });
}

describe('trials --budgets', () => {
  it('runs and retrains one search per budget and seed, skips finished ones, and the report plots them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    // Budgets just above and well above the cheapest network of this space (L = 2, B = 2), in billions.
    const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 2, numClasses: numClasses(), size: [1024, 2048] });
    const cheapest = cheapestBillions();
    const budgets = [Math.ceil(cheapest * 1.05), Math.ceil(cheapest * 1.6)];
    const args = ['trials', '--trials', '1', '--budgets', budgets.join(','), '--retrain-iterations', '2', '--retrain-args', '--filter-multiplier 2 --eval-every 0',
      '--out', dir, ...TINY_SEARCH];
    const r = run(...args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /2\/2 searches finished in .*, 2 retrained/);
    for (const b of budgets) {
      const trial = path.join(dir, `budget-${b}`, 'trial-0');
      assert.deepEqual(readJson(trial, 'config.json').budget.limit, b * 1e9);
      const g = validateGenotype(readJson(trial, 'genotype.json'));
      const cost = genotypeCost(table, g);
      assert.ok(cost <= b * 1e9, `budget ${b}: decoded ${cost}`);
      assert.ok(r.stdout.includes(`seed 0: ${(cost / 1e9).toFixed(2)} B Multi-Adds`), `budget ${b}: ${r.stdout}`);
      const retrained = readJson(trial, 'retrain', 'config.json');
      assert.deepEqual(retrained.model.genotype, g);
      assert.equal(retrained.model.filterMultiplier, 2, '--retrain-args overrides the budget\'s F');
      assert.deepEqual([retrained.train.iterations, retrained.train.crop, retrained.train.threads, retrained.train.seed], [2, 40, 1, 0], 'the search\'s crop and threads, the trial\'s seed');
      assert.ok(fs.existsSync(path.join(trial, 'retrain', 'model.safetensors')));
    }
    const stamp = (b: number, f: string) => fs.statSync(path.join(dir, `budget-${b}`, 'trial-0', f)).mtimeMs;
    const before = budgets.flatMap((b) => [stamp(b, 'checkpoint.safetensors'), stamp(b, 'retrain/model.safetensors')]);
    const again = run(...args);
    assert.equal(again.status, 0, again.stderr);
    assert.equal((again.stderr.match(/finished earlier/g) ?? []).length, 2);
    assert.equal((again.stderr.match(/retrained earlier/g) ?? []).length, 2);
    assert.deepEqual(budgets.flatMap((b) => [stamp(b, 'checkpoint.safetensors'), stamp(b, 'retrain/model.safetensors')]), before, 'a finished run was redone');
    const rep = run('report', dir);
    assert.equal(rep.status, 0, rep.stderr);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.match(html, /Cost \/ accuracy trade-off/);
    const plot = specsOf(html).find((s) => (s.title as { text: string }).text.startsWith('decoded architectures')) as { layer: { data: { values: unknown[] } }[] };
    assert.equal(plot.layer[2].data.values.length, 2, 'a point per trial');
    assert.equal((html.match(/<td>retrained<\/td>/g) ?? []).length, 2);

    const clash = run('trials', '--trials', '1', '--budgets', '300', '--out', dir, '--budget', '250');
    assert.equal(clash.status, 2);
    assert.match(clash.stderr, /--budget is set by --budgets/);
    const own = run('trials', '--trials', '1', '--retrain-iterations', '1', '--retrain-args', '--out x', '--out', dir);
    assert.equal(own.status, 2);
    assert.match(own.stderr, /--retrain-args: --out is set by trials/);
    const bad = run('trials', '--trials', '1', '--budgets', '300,-1', '--out', dir);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--budgets.*distinct positive numbers/);
    fs.rmSync(dir, { recursive: true });
  });

  it('the retraining takes the search\'s data and machine flags and the budget\'s F unless --retrain-args gives them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ budget: { filterMultiplier: 32 } }));
    const search = ['--dataset', 'folder', '--data-root=/data', '--crop', '64', '--lr', '0.1', '--skip-bad', '--threads', '2', '--layers', '4'];
    assert.deepEqual(trainArgs(search, ['--crop', '96'], dir),
      ['--dataset', 'folder', '--data-root', '/data', '--threads', '2', '--skip-bad', '--filter-multiplier', '32', '--crop', '96']);
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({}));
    assert.deepEqual(trainArgs([], ['--filter-multiplier=4'], dir), ['--filter-multiplier=4'], 'F given: not added');
    assert.deepEqual(trainArgs([], [], dir), ['--filter-multiplier', '20'], 'no budget: Auto-DeepLab-S\'s F, as the report costs it');
    fs.rmSync(dir, { recursive: true });
  });
});

describe('trials, stopped', () => {
  it('passes a Ctrl-C or SIGTERM on to its search once, exits 130 / 143 after the search has checkpointed and exited; the rerun resumes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-trials-stop-'));
    const args = ['--trials', '1', '--out', dir, ...SLOW_SEARCH];
    const lock = path.join(dir, 'trial-0', 'run.lock');
    // A terminal's Ctrl-C signals the whole foreground group: the search must still get one SIGINT only (two: it exits at once, without its checkpoint).
    const int = await trialsUntilExit(args, lock, 'SIGINT', true);
    assert.equal(int.status, 130, int.stderr);
    assert.ok(!Number.isNaN(int.childPid));
    assert.equal(int.childAliveAtExit, false, 'trials exited before its search');
    assert.equal(int.lockAtExit, false, 'the run folder is still locked');
    assert.match(int.stdout, /search stopped after \d+ iterations/, 'the search did not stop cleanly on one SIGINT');
    assert.match(int.stderr, /run the same command again/);
    assert.ok(fs.existsSync(path.join(dir, 'trial-0', 'checkpoint.safetensors')));
    // Two trials, one at a time: on SIGTERM seed 0 stops, seed 1 never starts, and trials says which is which.
    const term = await trialsUntilExit(['--trials', '2', ...args.slice(2)], lock, 'SIGTERM');
    assert.equal(term.status, 143, term.stderr);
    assert.match(term.stderr, /^trials: searches that did not finish \(each resumes from its checkpoint\): seed 0\ntrials: searches not started: seed 1\n/m);
    assert.match(term.stdout, /trials: 0\/2 searches finished/);
    assert.match(term.stderr, /seed 0 \(resuming\)/);
    assert.deepEqual([term.childAliveAtExit, term.lockAtExit], [false, false], 'trials exited before its search');
    assert.match(term.stdout, /search stopped after \d+ iterations/);
    const rest = run('trials', ...args);
    assert.equal(rest.status, 0, rest.stderr);
    assert.match(rest.stderr, /seed 0 \(resuming\)/);
    assert.deepEqual(readTrials(dir).map((t) => t.mIoU.length), [30]);
    fs.rmSync(dir, { recursive: true });
  });

  it('a refused search stops the others running (--jobs 2) before trials exits 2', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-trials-stop-'));
    const low = Math.floor(cheapestBillions() / 2);
    const high = Math.ceil(cheapestBillions() * 2);
    const r = await trialsUntilExit(['--trials', '1', '--jobs', '2', '--budgets', `${low},${high}`, '--out', dir, ...SLOW_SEARCH], path.join(dir, `budget-${high}`, 'trial-0', 'run.lock'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`search exited 2 for budget ${low}`));
    assert.deepEqual([r.childAliveAtExit, r.lockAtExit], [false, false], 'trials exited before the other search');
    fs.rmSync(dir, { recursive: true });
  });
});

describe('trials --budgets, checked', () => {
  it('runs the budgets cheapest first: one below the cheapest network exits 2 before the others run, and leaves no folder', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    const low = Math.floor(cheapestBillions() / 2);
    const high = Math.ceil(cheapestBillions() * 2);
    const out = path.join(dir, 'sweep');
    const r = run('trials', '--trials', '1', '--budgets', `${high},${low}`, '--out', out, ...TINY_SEARCH);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`search exited 2 for budget ${low}, seed 0`));
    assert.doesNotMatch(r.stderr, new RegExp(`budget ${high}`), 'the feasible budget ran first');
    assert.doesNotMatch(r.stderr, /running told to stop/, 'no other run was going on');
    assert.deepEqual(fs.readdirSync(dir), [], 'the refused budget left a folder, or trials its empty --out');
    fs.rmSync(dir, { recursive: true });
  });

  it('a budget out of the range of search --budget / --budget-ms exits 2 naming --budgets, before any search', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    const out = path.join(dir, 'sweep');
    const r = run('trials', '--trials', '1', '--budgets', '300,1e30', '--out', out, ...TINY_SEARCH);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--budgets: 1e\+30 is out of range \(each budget is given to search as --budget, which takes a number in \(0, 1000000\]\)/);
    assert.doesNotMatch(r.stderr, /trials: (budget|seed)/, 'a search was started');
    assert.ok(!fs.existsSync(out));
    fs.rmSync(dir, { recursive: true });
  });

  it('an ms sweep checks --latency-table before copying it, and refuses another table for a sweep searched with one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    const out = path.join(dir, 'sweep');
    const copy = path.join(out, 'latency-table.json');
    const shape = { filterMultiplier: 20, blocks: 2, numClasses: numClasses(), size: [128, 256] as [number, number] };
    const tableA = path.join(dir, 'a.json');
    const tableB = path.join(dir, 'b.json');
    const textA = JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 1));
    fs.writeFileSync(tableA, textA);
    fs.writeFileSync(tableB, JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 2)));
    const truncated = path.join(dir, 'truncated.json');
    fs.writeFileSync(truncated, textA.slice(0, textA.length / 2));
    const sweep = (table: string) => run('trials', '--trials', '1', '--budgets', '100000', '--out', out, ...TINY_SEARCH, '--latency-table', table);

    const bad = sweep(truncated);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--latency-table: .*truncated\.json is not valid JSON/);
    assert.ok(!fs.existsSync(copy), 'a bad table was copied');
    const wrong = path.join(dir, 'wrong.json');
    fs.writeFileSync(wrong, JSON.stringify({ ...JSON.parse(textA), clock: 'sundial' }));
    assert.match(sweep(wrong).stderr, /--latency-table: .*wrong\.json: field 'clock'/);
    assert.ok(!fs.existsSync(copy), 'a bad table was copied');

    const a = sweep(tableA);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(fs.readFileSync(copy, 'utf8'), textA);
    const b = sweep(tableB);
    assert.equal(b.status, 2);
    assert.match(b.stderr, /--latency-table: .*b\.json differs from .*latency-table\.json, the table the sweep in .* was searched with/);
    assert.equal(fs.readFileSync(copy, 'utf8'), textA, 'the sweep\'s table was replaced');
    const again = sweep(tableA);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /finished earlier/);
    fs.rmSync(dir, { recursive: true });
  });
});
