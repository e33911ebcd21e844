/**
 * `autodeeplab trials --budgets`: one search per (budget, seed) in
 * OUT/budget-<B>/trial-<seed>/, each decoded genotype retrained into its
 * retrain/ folder, finished ones skipped when the command is run again, and
 * the report's trade-off drawn from the folder.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { genotypeCost, MultiAddsTable } from '../../src/arch/cost_table';
import { validateGenotype } from '../../src/arch/genotype';
import { NetworkTrellis } from '../../src/arch/trellis';
import { openDataset } from '../../src/data/registry';
import { cheapestCost } from '../../src/search/budget_decode';
import { trainArgs } from '../../src/cli/trial_runs';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const TINY_SEARCH = ['--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '2', '--blocks', '2', '--filter-multiplier', '2',
  '--batch-size', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];
const readJson = (...p: string[]) => JSON.parse(fs.readFileSync(path.join(...p), 'utf8'));

describe('trials --budgets', () => {
  it('runs and retrains one search per budget and seed, skips finished ones, and the report plots them', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    // Budgets just above and well above the cheapest network of this space (L = 2, B = 2), in billions.
    const numClasses = openDataset('builtin', { split: 'train', builtinSize: 1 }).numClasses;
    const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 2, numClasses, size: [1024, 2048] });
    const cheapest = cheapestCost(new NetworkTrellis(2), table) / 1e9;
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
    assert.equal((html.match(/class="point"/g) ?? []).length, 2);
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
