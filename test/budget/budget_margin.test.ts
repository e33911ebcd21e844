/**
 * The margin of an ms budget: derived from the table's recorded check (or a
 * constant without one) so that a network at the effective budget, measuring
 * the check's worst ratio and the timing noise, measures the budget; the
 * flag and the config file override it (refusals: budget_search.test.ts,
 * budget_config.test.ts); the table's check validated.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Command } from 'commander';
import { CheckedNetwork, LatencyTableData, scaleTable, validateLatencyTable } from '../../src/budget/latency_table';
import { effectiveLimit, marginFor, tableMargin, TIMING_NOISE, UNCHECKED_MARGIN, UNCHECKED_WORST_RATIO } from '../../src/budget/budget_margin';
import { assembleTable } from '../../src/deploy/latency';
import { addBudgetOptions, resolveBudget } from '../../src/cli/budget_options';

const shape = { filterMultiplier: 2, blocks: 3, numClasses: 6, size: [64, 64] as [number, number] };
const plain = assembleTable(shape, 'libtorch', 1, 'cpu', () => 1);
const checked = (networks: CheckedNetwork[]): LatencyTableData => ({ ...plain, check: { networks } });
const net = (predictedMs: number, measuredMs: number, name = 'n'): CheckedNetwork => ({ name, predictedMs, measuredMs });

/** A network predicted at the effective budget that measures `ratio` x its prediction, and TIMING_NOISE more in another run: its time / the budget. */
const worstCaseShare = (margin: number, ratio: number) => effectiveLimit({ limit: 1, margin }) * ratio * (1 + TIMING_NOISE);

describe('the margin of an ms budget', () => {
  it('from a checked table: the worst-measured network, predicted at the effective budget and slowed by the noise, measures exactly the budget', () => {
    const table = checked([net(50, 52), net(70, 75.6, 'worst'), net(60, 57)]); // measured / predicted 1.04, 1.08, 0.95
    const { margin, marginFrom } = tableMargin(table);
    assert.ok(Math.abs(worstCaseShare(margin, 75.6 / 70) - 1) < 1e-12, `margin ${margin}`);
    for (const n of table.check!.networks) assert.ok(worstCaseShare(margin, n.measuredMs / n.predictedMs) <= 1 + 1e-12, n.name);
    assert.match(marginFrom, /the table's check on 3 networks: measured up to x 1\.080 its prediction, and 5% timing noise/);
  });

  it('a table that over-predicts every checked network keeps the noise alone; a table without a check takes the documented constant', () => {
    assert.ok(Math.abs(tableMargin(checked([net(80, 70), net(50, 49)])).margin - (1 - 1 / (1 + TIMING_NOISE))) < 1e-12);
    const { margin, marginFrom } = tableMargin(plain);
    assert.equal(margin, UNCHECKED_MARGIN);
    assert.ok(Math.abs(worstCaseShare(margin, UNCHECKED_WORST_RATIO) - 1) < 1e-12);
    assert.match(marginFrom, /default for a table without a check/);
    assert.equal(marginFor(UNCHECKED_WORST_RATIO), UNCHECKED_MARGIN);
    assert.equal(effectiveLimit({ limit: 240e9 }), 240e9, 'no margin: the limit itself');
  });

  it('a table\'s check is validated on read (old tables without one stay valid) and dropped when the table is scaled again', () => {
    assert.equal(validateLatencyTable(JSON.parse(JSON.stringify(plain)), 't.json').check, undefined);
    const good = checked([net(10, 11)]);
    assert.deepEqual(validateLatencyTable(JSON.parse(JSON.stringify(good)), 't.json').check, good.check);
    for (const check of [{}, { networks: [] }, { networks: [net(10, 0)] }, { networks: [net(-1, 10)] }, { networks: [{ predictedMs: 1, measuredMs: 1 }] }, [net(10, 11)]]) {
      assert.throws(() => validateLatencyTable({ ...plain, check }, 't.json'), /t\.json: field 'check' must be \{"networks": \[\{"name", "predictedMs" > 0, "measuredMs" > 0\}/, JSON.stringify(check));
    }
    assert.equal(scaleTable(good, 1.1, 2).check, undefined, 'a check of the entries before scaling');
  });

  it('search --budget-ms defaults to the table\'s margin; --budget-margin and the config\'s budget.margin override it, and say so', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-margin-'));
    const write = (name: string, data: unknown) => {
      fs.writeFileSync(path.join(dir, name), JSON.stringify(data));
      return path.join(dir, name);
    };
    const resolve = (...args: string[]) => {
      const cmd = addBudgetOptions(new Command().option('--config <file>'));
      cmd.parse(args, { from: 'user' });
      return resolveBudget(cmd, { blocks: shape.blocks, numClasses: shape.numClasses })!.settings;
    };
    const withCheck = write('checked.json', checked([net(70, 75.6)]));
    const fromTable = resolve('--budget-ms', '70', '--latency-table', withCheck);
    assert.equal(fromTable.margin, tableMargin(checked([net(70, 75.6)])).margin);
    assert.match(fromTable.marginFrom!, /the table's check on 1 network:/);
    assert.equal(resolve('--budget-ms', '70', '--latency-table', write('plain.json', plain)).margin, UNCHECKED_MARGIN);
    const flag = resolve('--budget-ms', '70', '--latency-table', withCheck, '--budget-margin', '0');
    assert.deepEqual([flag.margin, flag.marginFrom, effectiveLimit(flag)], [0, '--budget-margin', 70]);
    const config = write('c.json', { budget: { limit: 70, unit: 'ms', latencyTable: 'plain.json', margin: 0.2 } });
    const fromFile = resolve('--config', config);
    assert.deepEqual([fromFile.margin, fromFile.marginFrom], [0.2, `${config}: field 'budget.margin'`]);
    assert.equal(resolve('--config', config, '--budget-margin', '0.1').margin, 0.1, 'the typed flag over the file');
    assert.equal(resolve('--budget', '240').margin, undefined, 'Multi-Adds are counted exactly: no margin');
    fs.rmSync(dir, { recursive: true });
  });
});
