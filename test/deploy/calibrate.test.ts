/** Calibrating a latency table on whole networks: every entry scaled by measured / predicted over the calibration networks. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { genotypeCost } from '../../src/budget/cost_table';
import { LatencyTable, scaleTable, validateLatencyTable } from '../../src/budget/latency_table';
import { sampleGenotype } from '../../src/arch/random';
import { calibrateTable, CALIBRATION_SEED } from '../../src/deploy/calibrate';
import { tableMargin } from '../../src/budget/budget_margin';
import { assembleTable } from '../../src/deploy/latency';
import { Rng } from '../../src/util/random';

const shape = { filterMultiplier: 2, blocks: 3, numClasses: 4, size: [64, 64] as [number, number] };

describe('latency table calibration', () => {
  it('scaling the table scales every architecture\'s predicted time by the same factor', () => {
    // Distinct times per part (a hash of its key), so that a part left unscaled would show.
    const table = assembleTable(shape, 'onnxruntime', 1, 'wall', (key) => 0.1 + ([...key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 997, 7) / 997));
    const scaled = scaleTable(table, 1.25, 3);
    assert.deepEqual(scaled.calibration, { networks: 3, scale: 1.25 });
    assert.equal(scaleTable(scaled, 0.8, 2).calibration!.scale, 1.25 * 0.8); // calibrating again composes
    const [t, s] = [new LatencyTable(table), new LatencyTable(validateLatencyTable(JSON.parse(JSON.stringify(scaled)), 't.json'))];
    for (let i = 0; i < 20; i++) {
      const g = sampleGenotype(new Rng(i), { layers: 1 + (i % 6), blocks: shape.blocks });
      assert.ok(Math.abs(genotypeCost(s, g) - 1.25 * genotypeCost(t, g)) < 1e-9 * genotypeCost(t, g), `genotype ${i}`);
    }
    assert.throws(() => validateLatencyTable({ ...scaled, calibration: { networks: 0, scale: 1 } }, 't.json'), /t\.json: field 'calibration'/);
  });

  it('after calibration the table predicts the calibration networks\' summed measured time', async () => {
    const table = assembleTable(shape, 'libtorch', 1, 'cpu', () => 0.5); // arbitrary entries: the factor absorbs their level
    const seen: [number, number][] = [];
    const calibrated = await calibrateTable(table, 2, 1, 12, (_, p, m) => seen.push([p, m]));
    assert.equal(seen.length, 2);
    const measured = seen.reduce((a, [, m]) => a + m, 0);
    const t = new LatencyTable(calibrated);
    const predicted = [0, 1].reduce((a, i) => a + genotypeCost(t, sampleGenotype(new Rng(CALIBRATION_SEED + i), { layers: 12, blocks: shape.blocks })), 0);
    assert.ok(Math.abs(predicted - measured) < 1e-9 * measured, `${predicted} vs ${measured}`);
    assert.equal(calibrated.calibration!.networks, 2);
  });

  it('latency-table --from T --out T2 calibrates an existing table and checks it on other architectures, recording the check; --from T2 --check rechecks it in place', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-calibrate-'));
    const [from, out] = [path.join(dir, 't.json'), path.join(dir, 't2.json')];
    fs.writeFileSync(from, JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 0.5)));
    const cli = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
    const r = spawnSync(process.execPath, [cli, 'latency-table', '--from', from, '--out', out, '--calibrate', '1', '--check', '2', '--repeats', '1'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const written = validateLatencyTable(JSON.parse(fs.readFileSync(out, 'utf8')), out);
    assert.equal(written.calibration!.networks, 1);
    assert.match(r.stdout, /^latency table \(.*calibrated x [0-9.]+ on 1 networks\): .*t2\.json$/m);
    const lines = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const l of lines) assert.ok(Math.abs(l.predictedMs / l.measuredMs - l.ratio) < 1e-3 && l.measuredMs > 0);
    // What search --budget-ms takes its margin from: the networks as printed, and the margin that follows from them.
    const check = validateLatencyTable(JSON.parse(fs.readFileSync(out, 'utf8')), out).check!;
    assert.deepEqual(check.networks.map((n) => [n.name, +n.predictedMs.toFixed(2), +n.measuredMs.toFixed(2)]), lines.map((l) => [l.name, l.predictedMs, l.measuredMs]));
    assert.match(r.stdout, new RegExp(`^check recorded in .*t2\\.json: search --budget-ms with it decodes within the budget less ${(100 * tableMargin(written).margin).toFixed(2)}%$`, 'm'));
    const again = spawnSync(process.execPath, [cli, 'latency-table', '--from', out, '--check', '1', '--repeats', '1'], { encoding: 'utf8' });
    assert.equal(again.status, 0, again.stderr);
    const rechecked = validateLatencyTable(JSON.parse(fs.readFileSync(out, 'utf8')), out);
    assert.deepEqual(rechecked.check!.networks.map((n) => n.name), ['random 0'], 'the new check replaces the old');
    assert.deepEqual({ ...rechecked, check: undefined }, { ...written, check: undefined }, 'the entries unchanged');
    fs.rmSync(dir, { recursive: true });
  });

  it('latency-table refuses bad input before any timing, naming the flag', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-latency-flags-'));
    const table = path.join(dir, 't.json');
    fs.writeFileSync(table, JSON.stringify(assembleTable(shape, 'libtorch', 1, 'cpu', () => 0.5)));
    const genotype = path.join(dir, 'g.json');
    fs.writeFileSync(genotype, JSON.stringify(sampleGenotype(new Rng(0), { layers: 3, blocks: 5 })));
    const cli = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
    // Without --from these would time a 1024x2048 table (minutes): exit 2 within the test's time means they were refused first.
    const cases: [string[], RegExp][] = [
      [['--from', table, '--size', '64x64', '--check', '1'], /--size: the table given by --from fixes it/],
      [['--from', table], /nothing to do; give --check N, --genotypes FILES or --out FILE/],
      [['--out', path.join(table, 'x.json')], /--out: .*t\.json is a file, so .* cannot be written/],
      [['--out', path.join(dir, 'new.json'), '--genotypes', `${genotype},`], /--genotypes: an empty file name/],
      [['--out', path.join(dir, 'new.json'), '--genotypes', path.join(dir, 'missing.json')], /--genotypes: .*missing\.json/],
      [['--from', table, '--genotypes', genotype], /--genotypes: .*g\.json has cells of B = 5 blocks, the table is for B = 3/],
      // Bounded as search --blocks (below): B = 99 at 1024x2048 would take days.
      [['--out', path.join(dir, 'new.json'), '--blocks', '99'], /--blocks.*expected an integer in 2\.\.10 \(as search --blocks/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [cli, 'latency-table', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'new.json')));
    const blocks = spawnSync(process.execPath, [cli, 'search', '--blocks', '11', '--out', path.join(dir, 'b11')], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(blocks.status, 2, blocks.stderr);
    assert.match(blocks.stderr, /--blocks: field 'blocks' must be in \[2, 10\]/);
    assert.ok(!fs.existsSync(path.join(dir, 'b11')));
    // A table of another class count than the search's data (the built-in scenes have 6).
    fs.writeFileSync(table, JSON.stringify(assembleTable({ ...shape, numClasses: 19 }, 'libtorch', 1, 'cpu', () => 0.5)));
    const s = spawnSync(process.execPath, [cli, 'search', '--layers', '3', '--blocks', '3', '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48',
      '--crop', '40', '--threads', '1', '--budget-ms', '100', '--latency-table', table, '--out', path.join(dir, 'run')], { encoding: 'utf8' });
    assert.equal(s.status, 2, s.stderr);
    assert.match(s.stderr, /--latency-table: .*t\.json was measured for 19 classes, the search's data has 6 \(measure it with latency-table --classes 6\)/);
    fs.rmSync(dir, { recursive: true });
  });
});
