/** The latency table: measured in both runtimes, validated on load, and used by search --budget-ms. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { networkCost } from '../../src/budget/cost_table';
import { validateGenotype } from '../../src/arch/genotype_file';
import { LatencyTable, validateLatencyTable } from '../../src/budget/latency_table';
import { NetworkTrellis } from '../../src/arch/trellis';
import { assembleTable, measureLatencyTable } from '../../src/deploy/latency';
import { cheapestCost } from '../../src/budget/constrained_decode';
import { tableMargin } from '../../src/budget/budget_margin';
import { MetricsLog } from '../../src/run/metrics_log';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const shape = { filterMultiplier: 2, blocks: 3, numClasses: 6, size: [64, 64] as [number, number] };

describe('latency table', () => {
  for (const runtime of ['libtorch', 'onnxruntime'] as const) {
    it(`${runtime}: every part timed, the file validates and prices a genotype`, async () => {
      const data = await measureLatencyTable(shape, runtime, 1, 1);
      const checked = validateLatencyTable(JSON.parse(JSON.stringify(data)), 'table.json');
      assert.equal(checked.runtime, runtime);
      assert.ok(data.stem > 0 && data.aspp.every((v) => v > 0) && data.decoder.cell > 0);
      assert.ok(data.ops.every((byStride) => byStride.every((ops) => ops.sep3x3 > 0)));
      const t = new LatencyTable(data);
      const cost = networkCost(t, { blocks: [[{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'skip' }]] }, [0, 1, 0]);
      assert.ok(cost > data.stem + data.decoder.cell);
    });
  }

  it('a file with a missing or negative entry is bad input naming the file and the field', () => {
    assert.throws(() => validateLatencyTable({ version: 1, unit: 'ms', runtime: 'libtorch', clock: 'cpu', threads: 1, shape, stem: -1 }, 't.json'), /t\.json: field 'stem' must be a time in ms >= 0/);
    assert.throws(() => validateLatencyTable({ version: 2 }, 't.json'), /t\.json: field 'version\/unit'/);
  });

  it('search --budget-ms --latency-table decodes a genotype within the budget less the margin of the table\'s check, as the table prices it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-latency-'));
    // Synthetic timings (every part 1 ms at its level's size): the decoder's arithmetic, not this machine, is under test.
    const ones = { ...assembleTable(shape, 'libtorch', 1, 'cpu', () => 1), check: { networks: [{ name: 'a', predictedMs: 20, measuredMs: 21 }] } };
    const file = path.join(dir, 'table.json');
    fs.writeFileSync(file, JSON.stringify(ones));
    const table = new LatencyTable(validateLatencyTable(ones, file));
    const { margin } = tableMargin(ones);
    const effective = cheapestCost(new NetworkTrellis(3), table) * 1.05;
    const limit = effective / (1 - margin);
    const out = path.join(dir, 'run');
    const r = spawnSync(process.execPath, [CLI, 'search', '--epochs', '1', '--arch-start-epoch', '0', '--crop', '40', '--layers', '3', '--blocks', '3',
      '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1', '--budget-ms', String(limit), '--latency-table', file, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const g = validateGenotype(JSON.parse(fs.readFileSync(path.join(out, 'genotype.json'), 'utf8')));
    assert.ok(networkCost(table, g.cell!, g.path) <= effective * (1 + 1e-12));
    assert.match(r.stdout, /ms \(budget [0-9.]+ ms less its [0-9.]+% margin \([0-9.]+ ms\)\)/);
    assert.match(r.stderr, /^search: budget .* margin from the table's check on 1 network: measured up to x 1\.050 its prediction/m);
    const recorded = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).budget;
    assert.deepEqual([recorded.limit, recorded.margin], [limit, margin]);
    const epochs = MetricsLog.read(path.join(out, 'metrics.jsonl')).filter((l) => l.type === 'epoch');
    for (const e of epochs) assert.ok(Math.abs((e.budget as { effectiveLimit: number }).effectiveLimit - effective) < 1e-9 * effective);
    const both = spawnSync(process.execPath, [CLI, 'search', '--budget', '300', '--budget-ms', '5', '--out', out], { encoding: 'utf8' });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /give one budget, not both/);
    fs.rmSync(dir, { recursive: true });
  });
});
