/**
 * The commands that produce the paper's evidence at small scale: `trials`
 * (Fig. 4: several seeded searches, resumable, one report) and `compare`
 * (searched vs uniformly random architectures under the same schedule).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateGenotype } from '../../src/arch/genotype_file';
import { openDataset } from '../../src/data/registry';
import { Comparison, comparisonCostTable, evaluateSaved, randomArchitectures } from '../../src/train/baseline';
import { genotypeCost } from '../../src/budget/cost_table';
import { readTrials } from '../../src/report/trials_report';
import { specsOf } from '../../src/report/vega';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const TINY_SEARCH = ['--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '2', '--blocks', '2', '--filter-multiplier', '2',
  '--batch-size', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];

describe('evidence commands', () => {
  it('trials runs one search per seed, skips finished ones when run again, and reports the band', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-trials-'));
    const r = run('trials', '--trials', '2', '--first-seed', '3', '--out', dir, ...TINY_SEARCH);
    assert.equal(r.status, 0, r.stderr);
    const trials = readTrials(dir);
    assert.deepEqual(trials.map((t) => [t.seed, t.mIoU.length]), [[3, 2], [4, 2]]);
    assert.notDeepEqual(trials[0].genotype, null);
    assert.match(r.stdout, /2\/2 searches finished/);
    const mtime = fs.statSync(path.join(dir, 'trial-3', 'checkpoint.safetensors')).mtimeMs;
    const again = run('trials', '--trials', '3', '--first-seed', '3', '--out', dir, ...TINY_SEARCH, '--max-iterations', '2');
    assert.equal(again.status, 1, 'seed 5 stopped early: not finished');
    assert.match(again.stderr, /seed 3 finished earlier/);
    assert.match(again.stderr, /seed 4 finished earlier/);
    assert.equal(fs.statSync(path.join(dir, 'trial-3', 'checkpoint.safetensors')).mtimeMs, mtime, 'a finished trial was rerun');
    assert.match(again.stderr, /did not finish/, 'seed 5 stopped by --max-iterations');
    const resumed = run('trials', '--trials', '3', '--first-seed', '3', '--out', dir, ...TINY_SEARCH);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /seed 5 \(resuming\)/);
    assert.equal(readTrials(dir).length, 3);
    const rep = run('report', dir);
    assert.equal(rep.status, 0, rep.stderr);
    const html = fs.readFileSync(path.join(dir, 'report.html'), 'utf8');
    assert.match(html, /Fig\. 4/);
    const band = specsOf(html)[0] as { layer: { data: { values: { trial?: string }[] } }[] };
    assert.equal(new Set(band.layer[1].data.values.map((v) => v.trial)).size, 3, 'a line per trial');
    const clash = run('trials', '--trials', '1', '--out', dir, '--seed', '1');
    assert.equal(clash.status, 2);
    assert.match(clash.stderr, /--seed is set by trials/);
    fs.rmSync(dir, { recursive: true });
  });

  it('compare retrains the searched and K random architectures with the same settings, and reuses finished ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-compare-'));
    const g = path.join(dir, 'g.json');
    const searched = { version: 1, cell: { blocks: [[{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'skip' }],
      [{ input: 'prev', op: 'atrous3x3' }, { input: 'block0', op: 'maxpool3x3' }]] }, path: [0, 1] };
    fs.writeFileSync(g, JSON.stringify(searched));
    const out = path.join(dir, 'cmp');
    const args = ['compare', '--genotype', g, '--random-baseline', '2', '--filter-multiplier', '2', '--crop', '40', '--iterations', '2',
      '--batch-size', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--val-size', '3', '--threads', '1', '--seed', '5', '--out', out];
    const r = run(...args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /searched ranks \d of 3/);
    const c = JSON.parse(fs.readFileSync(path.join(out, 'comparison.json'), 'utf8')) as Comparison;
    assert.deepEqual(c.entries.map((e) => e.name), ['searched', 'random-1', 'random-2']);
    assert.deepEqual(c.entries[0].genotype, searched);
    // Equal cost by default: the draws of the sampler, each within 5% of the searched network's Multi-Adds at the crop.
    const table = comparisonCostTable(validateGenotype(searched), 2, 6, 40);
    const randoms = randomArchitectures(validateGenotype(searched), 2, 5, 'equal-cost', table, 0.05);
    assert.deepEqual(c.entries.slice(1).map((e) => e.genotype), randoms);
    assert.equal(c.randomMode, 'equal-cost');
    for (const e of c.entries) {
      assert.equal(e.multiAdds, genotypeCost(table, e.genotype));
      assert.ok(Math.abs(e.multiAdds / c.entries[0].multiAdds - 1) <= 0.05, `${e.name} outside the cost band`);
    }
    assert.match(r.stdout, /random-1 .* B Multi-Adds \(x\d\.\d{3}\)/);
    for (const e of c.entries) {
      const cfg = JSON.parse(fs.readFileSync(path.join(out, e.name, 'config.json'), 'utf8'));
      assert.deepEqual(cfg.train, c.train, `${e.name} trained with other settings`);
      assert.deepEqual(cfg.model.genotype, e.genotype, `${e.name} trained another architecture`);
      assert.equal(cfg.model.filterMultiplier, 2);
    }
    // The table's numbers are the saved models' held-out metrics.
    const val = openDataset('builtin', { split: 'val', builtinSize: 3, builtinImageSize: 48, seed: 5 });
    const ev = await evaluateSaved(path.join(out, 'random-2', 'model.safetensors'), val);
    assert.equal(c.entries[2].mIoU, ev.mIoU);
    const mtime = fs.statSync(path.join(out, 'random-1', 'model.safetensors')).mtimeMs;
    const again = run(...args);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(fs.statSync(path.join(out, 'random-1', 'model.safetensors')).mtimeMs, mtime, 'a finished architecture was retrained');
    assert.equal(again.stdout, r.stdout);
    const rep = run('report', out);
    assert.equal(rep.status, 0, rep.stderr);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    const kinds = (specsOf(html)[0] as { data: { values: { kind: string }[] } }).data.values.map((v) => v.kind).sort();
    assert.deepEqual(kinds, ['random', 'random', 'searched']);
    // Two seeds, uniform draws: seed-S/ folders, each seed's own random network, the paired test printed.
    const two = path.join(dir, 'two');
    const r2 = run(...args.map((a) => (a === out ? two : a)), '--random-baseline', '1', '--seeds', '2', '--random-baseline-mode', 'uniform');
    assert.equal(r2.status, 0, r2.stderr);
    const c2 = JSON.parse(fs.readFileSync(path.join(two, 'comparison.json'), 'utf8')) as Comparison;
    assert.deepEqual(c2.entries.map((e) => [e.seed, e.name]), [[5, 'searched'], [5, 'random-1'], [6, 'searched'], [6, 'random-1']]);
    assert.deepEqual(c2.entries[3].genotype, randomArchitectures(validateGenotype(searched), 1, 6)[0]);
    assert.ok(fs.existsSync(path.join(two, 'seed-6', 'random-1', 'model.safetensors')));
    assert.equal(JSON.parse(fs.readFileSync(path.join(two, 'seed-6', 'searched', 'config.json'), 'utf8')).train.seed, 6);
    assert.match(r2.stdout, /over 2 seeds: searched mean/);
    assert.match(r2.stdout, /sign-flip permutation p (0\.500|1\.000)/);
    fs.rmSync(dir, { recursive: true });
  });

  it('compare refuses a bad --random-baseline-mode, --cost-band or --seeds with exit 2 naming the flag', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-compare-flags-'));
    const g = path.join(dir, 'g.json');
    fs.writeFileSync(g, JSON.stringify({ version: 1, cell: { blocks: [[{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'skip' }]] }, path: [0] }));
    for (const [flag, value] of [['--random-baseline-mode', 'nearby'], ['--cost-band', '0'], ['--cost-band', '1.5'], ['--seeds', '0']]) {
      const r = run('compare', '--genotype', g, flag, value, '--out', path.join(dir, 'out'));
      assert.equal(r.status, 2, `${flag} ${value}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(flag));
    }
    fs.rmSync(dir, { recursive: true });
  });
});
