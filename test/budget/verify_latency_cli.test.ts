/**
 * search --verify-latency end to end with a libtorch table of a tiny network
 * (a few seconds): the decoded network is timed, the round printed and
 * recorded, genotype.json carries the measured time; a resume of the finished
 * run reuses the recorded time; a bad round count exits 2 naming the flag.
 * The table's entries are 1 µs, so every real network measures over a budget
 * of twice the cheapest prediction, and the next round's budget falls below
 * the cheapest network: the rounds stop with a warning and exit 0.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NetworkTrellis } from '../../src/arch/trellis';
import { cheapestCost } from '../../src/budget/constrained_decode';
import { genotypeCost } from '../../src/budget/cost_table';
import { LatencyTable } from '../../src/budget/latency_table';
import { assembleTable } from '../../src/deploy/latency';
import { readGenotypeFile } from '../../src/arch/genotype_file';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const BASE = ['search', '--epochs', '1', '--arch-start-epoch', '0', '--crop', '40', '--layers', '3', '--blocks', '3', '--filter-multiplier', '2',
  '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];

describe('search --verify-latency (libtorch, a tiny network)', () => {
  it('times the decoded network, records the round, warns when nothing fits (exit 0), and a resume does not time it again', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-verify-cli-'));
    const data = assembleTable({ filterMultiplier: 2, blocks: 3, numClasses: 6, size: [32, 32] }, 'libtorch', 1, 'cpu', () => 1e-3);
    const tableFile = path.join(dir, 'table.json');
    fs.writeFileSync(tableFile, JSON.stringify(data));
    const table = new LatencyTable(data);
    const budget = 2 * cheapestCost(new NetworkTrellis(3), table);
    const out = path.join(dir, 'run');
    const search = (...args: string[]) => spawnSync(process.execPath, [CLI, ...BASE, '--budget-ms', String(budget), '--latency-table', tableFile, '--budget-margin', '0', '--out', out, ...args], { encoding: 'utf8' });

    const first = search('--verify-latency');
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /search: latency round 1\/3: decoded within [0-9.]+ ms, path \[[0-3, ]+\], predicted [0-9.]+ ms, measured [0-9.]+ ms: over the [0-9.]+ ms budget\n/);
    assert.match(first.stderr, /search: warning: no decoded network measured within the [0-9.]+ ms budget \(the next budget \([0-9.]+ ms\) is below the cheapest network of the space/);
    const record = JSON.parse(fs.readFileSync(path.join(out, 'latency-verify.json'), 'utf8'));
    assert.equal(record.rounds.length, 1);
    const [r] = record.rounds;
    assert.deepEqual([record.withinBudget, record.chosenRound, r.effectiveBudgetMs, r.predictedMs], [false, 1, budget, genotypeCost(table, r.genotype)]);
    assert.ok(r.measuredMs > budget, `measured ${r.measuredMs} ms`);
    const genotypeFile = path.join(out, 'genotype.json');
    assert.deepEqual(readGenotypeFile(genotypeFile).genotype, r.genotype);
    assert.equal(JSON.parse(fs.readFileSync(genotypeFile, 'utf8')).search.budget.measuredMs, r.measuredMs);

    const resumed = search('--verify-latency', '2', '--resume');
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /search: latency round 1\/2: .* \(recorded by an earlier run of this search\): over/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'latency-verify.json'), 'utf8')).rounds[0].measuredMs, r.measuredMs);

    const bad = search('--verify-latency', '0');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--verify-latency \[rounds\]' argument '0' is invalid\. expected an integer in 1\.\.10/);
    fs.rmSync(dir, { recursive: true });
  });
});
