/**
 * search --verify-latency's rounds with a fake timer: a synthetic table, and
 * a "runtime" in which some ops take a known factor times what the table
 * says (measured = the table's sum with those entries scaled). Oracle: each
 * round's budget follows from the previous round's predicted and measured
 * times (the closed form of nextBudget), its network is what the constrained
 * decoder gives at that budget, and the rounds stop at the first network
 * measured within the limit. Also the record file, genotype.json, the resume
 * that reuses recorded times, and the flag's validation.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { Genotype } from '../../src/arch/genotype';
import { PRIMITIVES } from '../../src/arch/primitives';
import { NetworkTrellis } from '../../src/arch/trellis';
import { readGenotypeFile, writeGenotypeFile } from '../../src/arch/genotype_file';
import { genotypeCost } from '../../src/budget/cost_table';
import { decodeWithinBudget } from '../../src/budget/constrained_decode';
import { LatencyTable } from '../../src/budget/latency_table';
import { nextBudget, verifyLatency, VerifyOutcome } from '../../src/budget/verify_latency';
import { BudgetSettings } from '../../src/budget/search_budget';
import { assembleTable } from '../../src/deploy/latency';
import { addBudgetOptions, resolveBudget } from '../../src/cli/budget_options';
import { VERIFY_RECORD, verifySearchLatency } from '../../src/cli/verify_search_latency';
import { jsRandom } from '../helpers';
import { randomBeta } from '../arch/random_genotype';

const shape = { filterMultiplier: 4, blocks: 3, numClasses: 6, size: [64, 64] as [number, number] };
const unit = (key: string) => jsRandom([...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100003, 7))();
/** Each part's time fixed by its key: ops 1..3 ms, the fixed parts below 0.1 ms (so that the cells decide a network's time). */
const base = (key: string) => (key.startsWith('op:') ? 1 + 2 * unit(key) : 0.1 * unit(key));
/** How much slower than the table the fake runtime runs each op. */
const SLOW: Record<string, number> = { sep5x5: 1.3, atrous5x5: 1.2, sep3x3: 1.1 };
const factor = (key: string) => (key.startsWith('op:') ? SLOW[key.split(':')[3]] ?? 1 : 1);
const table = new LatencyTable(assembleTable(shape, 'libtorch', 1, 'cpu', base));
const runtime = new LatencyTable(assembleTable(shape, 'libtorch', 1, 'cpu', (key) => base(key) * factor(key)));
const measure = async (g: Genotype) => genotypeCost(runtime, g);

/** Softmaxed alpha rows favouring the slow ops (so the first decode is over the budget); per layer: one table per layer. */
function alphaOf(layers: number | null, seed: number): number[][] | number[][][] {
  const r = jsRandom(seed);
  const rows = () => Array.from({ length: 9 }, () => {
    const e = PRIMITIVES.map((op) => Math.exp(2 * r() + (SLOW[op] ? 1.5 : 0)));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
  return layers === null ? rows() : Array.from({ length: layers }, rows);
}

/** The oracle: the rounds' budgets by the closed form, each network the decoder's at its budget, the stop at the first within the limit. */
function checkRounds(o: VerifyOutcome, alpha: number[][] | number[][][], beta: number[][][], trellis: NetworkTrellis, limitMs: number, startMs: number) {
  o.rounds.forEach((r, i) => {
    const budget = i === 0 ? startMs : (o.rounds[i - 1].predictedMs * limitMs) / o.rounds[i - 1].measuredMs;
    assert.equal(r.effectiveBudgetMs, budget, `round ${r.round}`);
    assert.equal(r.round, i + 1);
    const decoded = decodeWithinBudget(alpha, beta, trellis, table, budget);
    assert.deepEqual(r.genotype, decoded.genotype, `round ${r.round}: the decoder's network at ${budget}`);
    assert.deepEqual(r.path, decoded.genotype.path);
    assert.equal(r.predictedMs, genotypeCost(table, r.genotype));
    assert.equal(r.measuredMs, genotypeCost(runtime, r.genotype));
    if (i < o.rounds.length - 1) assert.ok(r.measuredMs > limitMs, `round ${r.round} measured within the limit, yet the rounds went on`);
  });
  assert.equal(o.chosen, o.rounds[o.rounds.length - 1]);
  assert.equal(o.withinBudget, o.chosen.measuredMs <= limitMs);
}

describe('search --verify-latency', () => {
  for (const perLayer of [false, true]) {
    it(`rounds against the oracle: decoded again within predicted x limit / measured until within the limit${perLayer ? ' (alpha per layer)' : ''}`, async () => {
      const trellis = new NetworkTrellis(5);
      const alpha = alphaOf(perLayer ? 5 : null, 3);
      const beta = randomBeta(trellis, 4);
      const free = decodeWithinBudget(alpha, beta, trellis, table, Infinity);
      const limitMs = free.cost;
      const startMs = 0.9 * limitMs;
      const o = await verifyLatency({ alpha, beta, trellis, table, limitMs, startMs, maxRounds: 10, measure });
      checkRounds(o, alpha, beta, trellis, limitMs, startMs);
      assert.ok(o.rounds.length >= 2, `the scenario decodes again (${o.rounds.length} round)`);
      assert.ok(o.withinBudget, o.stopped);
      assert.equal(o.stopped, 'within budget');
      // Fewer rounds: the same first rounds, the last one kept although over the limit.
      const short = await verifyLatency({ alpha, beta, trellis, table, limitMs, startMs, maxRounds: o.rounds.length - 1, measure });
      checkRounds(short, alpha, beta, trellis, limitMs, startMs);
      assert.deepEqual(short.rounds, o.rounds.slice(0, -1));
      assert.deepEqual([short.withinBudget, short.stopped], [false, 'rounds used up']);
    });
  }

  it('stops when the next budget is below the cheapest network; nextBudget is below the round\'s prediction', async () => {
    const trellis = new NetworkTrellis(4);
    const [alpha, beta] = [alphaOf(null, 5), randomBeta(trellis, 6)];
    const limitMs = decodeWithinBudget(alpha, beta, trellis, table, Infinity).cost;
    const o = await verifyLatency({ alpha, beta, trellis, table, limitMs, startMs: limitMs, maxRounds: 3, measure: async (g) => 100 * genotypeCost(table, g) });
    assert.equal(o.rounds.length, 1);
    assert.match(o.stopped, /^the next budget \([0-9.]+ ms\) is below the cheapest network of the space \([0-9.]+ ms\)$/);
    assert.ok(!o.withinBudget);
    assert.ok(Math.abs(nextBudget({ predictedMs: 50, measuredMs: 110 }, 100) - 50 / 1.1) < 1e-12);
  });

  it('writes every round to latency-verify.json and the chosen network to genotype.json; a resumed run reuses the recorded times', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-verify-'));
    const trellis = new NetworkTrellis(5);
    const [alpha, beta] = [alphaOf(null, 3), randomBeta(trellis, 4)];
    const limit = decodeWithinBudget(alpha, beta, trellis, table, Infinity).cost;
    const settings: BudgetSettings = { limit, unit: 'ms', size: shape.size, filterMultiplier: 4, weight: 1, latencyTable: '/t.json', latencyTableSha256: 'a'.repeat(64), margin: 0.1, verify: 4 };
    const searchDecode = decodeWithinBudget(alpha, beta, trellis, table, 0.9 * limit);
    writeGenotypeFile(path.join(dir, 'genotype.json'), searchDecode.genotype, { epoch: 1, iteration: 8, alpha, beta, budget: { limit, unit: 'ms', cost: searchDecode.cost } });
    const lines: string[] = [];
    let timed = 0;
    const run = (resume: boolean, timer = async (g: Genotype) => (timed++, measure(g))) => verifySearchLatency({
      out: dir, settings, table, alpha, beta, trellis, resume, measure: timer, print: (l) => lines.push(l), warn: (l) => lines.push(l),
    });
    const chosen = await run(false);
    const oracle = await verifyLatency({ alpha, beta, trellis, table, limitMs: limit, startMs: 0.9 * limit, maxRounds: 4, measure });
    const record = JSON.parse(fs.readFileSync(path.join(dir, VERIFY_RECORD), 'utf8'));
    assert.deepEqual(record.rounds, JSON.parse(JSON.stringify(oracle.rounds)));
    assert.deepEqual([record.budgetMs, record.withinBudget, record.chosenRound, record.repeats, record.latencyTableSha256], [limit, true, oracle.chosen.round, 5, settings.latencyTableSha256]);
    assert.equal(timed, oracle.rounds.length);
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'genotype.json'), 'utf8'));
    assert.deepEqual(readGenotypeFile(path.join(dir, 'genotype.json')).genotype, chosen);
    assert.deepEqual(chosen, oracle.chosen.genotype);
    assert.deepEqual([file.search.alpha, file.search.beta, file.search.iteration], [alpha, beta, 8], 'the search\'s record kept');
    assert.deepEqual(file.search.budget, { limit, unit: 'ms', cost: oracle.chosen.predictedMs, effectiveLimit: oracle.chosen.effectiveBudgetMs, measuredMs: oracle.chosen.measuredMs, withinBudget: true });
    const roundLines = lines.filter((l) => /latency round/.test(l));
    assert.equal(roundLines.length, oracle.rounds.length);
    assert.match(roundLines[0], new RegExp(`^search: latency round 1/4: decoded within ${(0.9 * limit).toFixed(2)} ms, path \\[${oracle.rounds[0].path.join(', ')}\\], predicted [0-9.]+ ms, measured [0-9.]+ ms: over the`));
    // Resumed (a finished search run again): nothing timed, the same record, each round said to be recorded.
    lines.length = 0;
    const again = await run(true, async () => assert.fail('timed again'));
    assert.deepEqual(again, chosen);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, VERIFY_RECORD), 'utf8')), record);
    assert.ok(lines.filter((l) => /latency round/.test(l)).every((l) => /recorded by an earlier run of this search/.test(l)));
    // A fresh run (not --resume) times again; one whose rounds run out says so and keeps the last.
    settings.verify = 1;
    lines.length = 0;
    await run(false);
    assert.equal(timed, oracle.rounds.length + 1);
    assert.match(lines.at(-1)!, /^search: warning: no decoded network measured within the [0-9.]+ ms budget \(rounds used up\); genotype\.json holds the last one/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, VERIFY_RECORD), 'utf8')).withinBudget, false);
    fs.rmSync(dir, { recursive: true });
  });

  it('--verify-latency and budget.verify: rounds in 1..10, only with an ms budget (exit 2 naming the flag or field)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-verify-flags-'));
    const write = (name: string, data: unknown) => (fs.writeFileSync(path.join(dir, name), JSON.stringify(data)), path.join(dir, name));
    const t = write('t.json', table.data);
    const resolve = (...args: string[]) => {
      const cmd = addBudgetOptions(new Command().option('--config <file>')).exitOverride().configureOutput({ writeErr: () => {} });
      cmd.parse(args, { from: 'user' });
      return resolveBudget(cmd, { blocks: shape.blocks, numClasses: shape.numClasses })?.settings;
    };
    assert.equal(resolve('--budget-ms', '70', '--latency-table', t, '--verify-latency')!.verify, 3);
    assert.equal(resolve('--budget-ms', '70', '--latency-table', t, '--verify-latency', '5')!.verify, 5);
    assert.equal(resolve('--budget-ms', '70', '--latency-table', t)!.verify, undefined);
    for (const v of ['0', '11', '1.5', 'x']) assert.throws(() => resolve('--budget-ms', '70', '--latency-table', t, '--verify-latency', v), /--verify-latency \[rounds\]' argument '.*' is invalid\. expected an integer in 1\.\.10/);
    assert.throws(() => resolve('--budget', '240', '--verify-latency'), /--verify-latency: only meaningful with --budget-ms/);
    assert.throws(() => resolve('--verify-latency', '2'), /--verify-latency: only meaningful with --budget-ms/);
    const ms = write('ms.json', { budget: { limit: 70, unit: 'ms', latencyTable: 't.json', verify: 2 } });
    assert.equal(resolve('--config', ms)!.verify, 2);
    assert.equal(resolve('--config', ms, '--verify-latency', '4')!.verify, 4, 'the typed flag over the file');
    assert.throws(() => resolve('--config', write('zero.json', { budget: { limit: 70, unit: 'ms', latencyTable: 't.json', verify: 0 } })), /zero\.json: field 'budget\.verify' must be/);
    assert.throws(() => resolve('--config', write('madds.json', { budget: { limit: 240e9, unit: 'multiAdds', verify: 2 } })), /madds\.json: field 'budget\.verify' is only meaningful with "unit": "ms"/);
    fs.rmSync(dir, { recursive: true });
  });
});
