/** A budget in the --config file: the same run as the flags, flags override it field by field, a resume keeps it, bad fields exit 2 naming them. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetworkShape } from '../../src/budget/cost_table';
import { assembleTable } from '../../src/deploy/latency';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const BASE = ['search', '--epochs', '1', '--arch-start-epoch', '0', '--crop', '40', '--layers', '3', '--blocks', '3', '--filter-multiplier', '2',
  '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];
const search = (args: string[], cwd?: string) => spawnSync(process.execPath, [CLI, ...BASE, ...args], { encoding: 'utf8', cwd });
const read = (dir: string, file: string) => fs.readFileSync(path.join(dir, file), 'utf8');

describe('a budget in the --config file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-budget-config-'));
  const config = (name: string, data: unknown) => {
    fs.writeFileSync(path.join(dir, name), JSON.stringify(data));
    return path.join(dir, name);
  };
  const run = (name: string, args: string[], cwd?: string) => {
    const out = path.join(dir, name);
    const r = search([...args, '--out', out], cwd);
    assert.equal(r.status, 0, r.stderr);
    return out;
  };

  it('gives the same run as the flags (Multi-Adds and ms); typed flags override its fields; a resume keeps it', () => {
    const flags = run('flags', ['--budget', '240', '--budget-weight', '2']);
    const file = config('madds.json', { budget: { limit: 240e9, unit: 'multiAdds', weight: 2 } });
    const fromFile = run('file', ['--config', file]);
    for (const f of ['config.json', 'genotype.json']) assert.equal(read(fromFile, f), read(flags, f), f);
    assert.deepEqual(JSON.parse(read(fromFile, 'config.json')).budget, { limit: 240e9, unit: 'multiAdds', size: [1024, 2048], filterMultiplier: 20, weight: 2 });

    // The flag's limit, the file's weight.
    const over = run('override', ['--config', file, '--budget', '250']);
    assert.deepEqual(JSON.parse(read(over, 'config.json')).budget, { limit: 250e9, unit: 'multiAdds', size: [1024, 2048], filterMultiplier: 20, weight: 2 });

    // An ms budget; the table's path is relative to the config file (the search runs elsewhere).
    const shape: NetworkShape = { filterMultiplier: 20, blocks: 3, numClasses: 6, size: [128, 256] };
    fs.writeFileSync(path.join(dir, 'table.json'), JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 1)));
    const msFlags = run('ms-flags', ['--budget-ms', '40', '--latency-table', path.join(dir, 'table.json')]);
    const msFile = run('ms-file', ['--config', config('ms.json', { budget: { limit: 40, unit: 'ms', latencyTable: 'table.json' } })], os.tmpdir());
    for (const f of ['config.json', 'genotype.json']) assert.equal(read(msFile, f), read(msFlags, f), f);
    // The record config.json keeps (the table's size and F included) is itself a valid budget section.
    const recorded = JSON.parse(read(msFile, 'config.json')).budget;
    run('ms-recorded', ['--config', config('recorded.json', { budget: { ...recorded, latencyTable: 'table.json' } })]);

    const partial = path.join(dir, 'partial');
    assert.equal(search(['--config', file, '--max-iterations', '1', '--out', partial]).status, 0);
    const resumed = search(['--config', file, '--resume', '--out', partial]);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.equal(read(partial, 'genotype.json'), read(fromFile, 'genotype.json'));
    const other = search(['--config', file, '--budget-weight', '1', '--resume', '--out', partial]);
    assert.equal(other.status, 2, other.stderr);
    assert.match(other.stderr, /budget\.weight: saved 2, now 1/);
  });

  it('an ms budget is resumed by its table\'s content: a copy elsewhere is the same budget, a table rewritten in place is not', () => {
    const shape: NetworkShape = { filterMultiplier: 20, blocks: 3, numClasses: 6, size: [128, 256] };
    const table = path.join(dir, 'resume-table.json');
    fs.writeFileSync(table, JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 1)));
    const out = path.join(dir, 'ms-resume');
    assert.equal(search(['--budget-ms', '40', '--latency-table', table, '--max-iterations', '1', '--out', out]).status, 0);
    const copy = path.join(dir, 'copy-of-table.json');
    fs.copyFileSync(table, copy);
    const recorded = JSON.parse(read(out, 'config.json')).budget;
    assert.equal(recorded.latencyTable, table);
    assert.match(recorded.latencyTableSha256, /^[0-9a-f]{64}$/);
    // The table rewritten in place (e.g. recalibrated): refused, naming the field; the same bytes elsewhere: accepted.
    fs.writeFileSync(table, JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 1.1)));
    const changed = search(['--budget-ms', '40', '--latency-table', table, '--resume', '--out', out]);
    assert.equal(changed.status, 2, changed.stderr);
    assert.match(changed.stderr, /budget\.latencyTableSha256: saved "[0-9a-f]{64}", now "[0-9a-f]{64}"/);
    const fromFile = search(['--config', config('recorded-sha.json', { budget: recorded }), '--out', path.join(dir, 'ms-sha')]);
    assert.equal(fromFile.status, 2, fromFile.stderr);
    assert.match(fromFile.stderr, /recorded-sha\.json: field 'budget\.latencyTableSha256': .* is no longer the table the run recorded/);
    const moved = search(['--budget-ms', '40', '--latency-table', copy, '--resume', '--out', out]);
    assert.equal(moved.status, 0, moved.stderr);
  });

  it('a bad field exits 2 naming the file and the field', () => {
    const cases: [unknown, RegExp][] = [
      [{ limit: 240e9, unit: 'MAdds' }, /field 'budget\.unit' must be "multiAdds" or "ms", got "MAdds"/],
      [{ unit: 'multiAdds' }, /field 'budget\.limit' must be the budget in Multi-Adds/],
      [{ limit: -1, unit: 'multiAdds' }, /field 'budget\.limit' must be > 0, got -1/],
      [{ limit: 240e9, unit: 'multiAdds', size: [1024] }, /field 'budget\.size' must be two numbers/],
      [{ limit: 240e9, unit: 'multiAdds', filterMultiplier: 2.5 }, /field 'budget\.filterMultiplier' must be an integer/],
      [{ limit: 240e9, unit: 'multiAdds', weigth: 1 }, /unknown field 'budget\.weigth'/],
      [{ limit: 240e9, unit: 'multiAdds', latencyTable: 'table.json' }, /field 'budget\.latencyTable' is only meaningful with "unit": "ms"/],
      [{ limit: 40, unit: 'ms' }, /field 'budget\.latencyTable' must name a table/],
      [{ limit: 40, unit: 'ms', latencyTable: 'table.json', size: [1024, 2048] }, /field 'budget\.size' must be the latency table's \[128,256\]/],
      [{ limit: 200e9, unit: 'multiAdds' }, /field 'budget\.limit': 200\.00 B Multi-Adds is below the cheapest architecture/],
      [{ limit: 40, unit: 'ms', latencyTable: 'table.json', margin: 0.5 }, /field 'budget\.margin' must be in \[0, 0\.5\) \(a fraction of the budget/],
      [{ limit: 240e9, unit: 'multiAdds', margin: 0.1 }, /field 'budget\.margin' is only meaningful with "unit": "ms"/],
      [240, /field 'budget' must be an object/],
      [{ limit: 240, unit: 'multiAdds' }, /field 'budget\.limit' is in Multi-Adds, not billions \(e\.g\. 240e9 for 240 B\), got 240/],
    ];
    cases.forEach(([budget, message], i) => {
      const r = search(['--config', config(`bad${i}.json`, { budget }), '--out', path.join(dir, 'bad')]);
      assert.equal(r.status, 2, `${JSON.stringify(budget)}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`bad${i}\\.json: `));
      assert.match(r.stderr, message);
    });
    fs.rmSync(dir, { recursive: true });
  });
});
