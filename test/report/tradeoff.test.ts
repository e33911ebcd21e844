/**
 * The cost / accuracy trade-off of a trials folder or a sweep over budgets:
 * every point sits at its decoded genotype's cost counted independently here
 * (a Multi-Adds table built from the known settings, not from config.json),
 * the released S / M / L at the Multi-Adds of Table 2 (this project's plain
 * count: 315.14 / 431.00 / 647.08 B at 1024x2048, 19 classes).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MultiAddsTable, networkCost } from '../../src/budget/cost_table';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { sampleGenotype } from '../../src/arch/random';
import { LatencyTable } from '../../src/budget/latency_table';
import { assembleTable } from '../../src/deploy/latency';
import { Rng } from '../../src/util/random';
import { buildReport } from '../../src/report/report';
import { isSweepFolder, readGroups, tradeoffPoint } from '../../src/report/tradeoff';
import { specsOf } from '../../src/report/vega';
import { Budget, fakeRetrain, fakeTrial } from './fakes';

const TABLE2_B = { S: 315.14, M: 431.0, L: 647.08 };
const COSTED = { config: { blocks: 5, numClasses: 19 } };

/** x (in the plot's unit: B or ms) of each marker and point (by its tooltip), from the trade-off scatter's Vega-Lite spec. */
function positions(html: string): { markers: Record<string, number>; points: Record<string, number> } {
  const plot = specsOf(html).find((s) => (s.title as { text: string }).text.startsWith('decoded architectures: cost and mIoU'))!;
  const layers = plot.layer as { data: { values: { x: number; name?: string; label?: string }[] } }[];
  const markers = Object.fromEntries(layers[0].data.values.map((m) => [m.name!, m.x]));
  const points = Object.fromEntries(layers[2].data.values.map((p) => [p.label!, p.x]));
  return { markers, points };
}

describe('report: cost / accuracy trade-off', () => {
  it('a sweep puts one point per trial at its exact Multi-Adds, the budgets and S / M / L at theirs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    const rng = new Rng(11);
    const gs = Array.from({ length: 3 }, () => sampleGenotype(rng, { blocks: 5, layers: 6 }));
    const budget = (b: number): Budget => ({ limit: b * 1e9, unit: 'multiAdds', size: [1024, 2048], filterMultiplier: 20, weight: 1 });
    fakeTrial(path.join(dir, 'budget-400'), 0, [0.2, 0.3], gs[0], { ...COSTED, budget: budget(400) });
    fakeRetrain(fakeTrial(path.join(dir, 'budget-400'), 1, [0.25, 0.35], gs[1], { ...COSTED, budget: budget(400) }), 0.42);
    fakeTrial(path.join(dir, 'budget-500'), 0, [0.1, 0.4], gs[2], { ...COSTED, budget: budget(500) });
    assert.ok(isSweepFolder(dir));
    assert.deepEqual(readGroups(dir).map((g) => [g.label, g.trials.length]), [['400', 2], ['500', 1]]);
    const oracle = new MultiAddsTable({ filterMultiplier: 20, blocks: 5, numClasses: 19, size: [1024, 2048] });
    const cost = gs.map((g) => networkCost(oracle, g.cell!, g.path));
    const pts = readGroups(dir).flatMap((g) => g.trials.map((t) => tradeoffPoint(t, g.label)!));
    assert.deepEqual(pts.map((p) => [p.cost, p.mIoU, p.source]), [[cost[0], 0.3, 'supernet'], [cost[1], 0.42, 'retrained'], [cost[2], 0.4, 'supernet']]);
    const html = await buildReport(dir);
    const { markers, points } = positions(html);
    assert.deepEqual(Object.keys(markers).sort(), ['400 B', '500 B', 'L', 'M', 'S']);
    assert.equal(Object.keys(points).length, 3, 'one point per trial');
    // Positions are an affine function of cost: fix it by S and L at Table 2's figures, then everything else must sit on it.
    const a = (markers.L - markers.S) / (TABLE2_B.L - TABLE2_B.S);
    const px = (billions: number) => markers.S + a * (billions - TABLE2_B.S);
    assert.ok(Math.abs(markers.M - px(TABLE2_B.M)) < 0.05, `M at ${markers.M}, Table 2 at ${px(TABLE2_B.M)}`);
    assert.ok(Math.abs(markers['400 B'] - px(400)) < 0.05);
    const titles = Object.keys(points);
    cost.forEach((c, i) => {
      const title = titles.find((t) => t.includes(`${(c / 1e9).toFixed(2)} B`))!;
      assert.ok(title, `no point at ${c}`);
      assert.ok(Math.abs(points[title] - px(c / 1e9)) < 0.1, `trial ${i}: at ${points[title]}, expected ${px(c / 1e9)}`);
    });
    assert.match(html, /<tr><td>400\.00 B<\/td><td>1<\/td><td>[0-9.]+ B<\/td><td>42\.00<\/td><td>retrained<\/td><\/tr>/);
    assert.match(html, /retrained \(disc\), supernet trainB \(ring\)/);
    assert.equal((html.match(/class="budget"/g) ?? []).length, 2, 'each budget\'s trials section');
    fs.rmSync(dir, { recursive: true });
  });

  it('plain trials are costed at 1024x2048, F = 20; ms sweeps mark only the released network of the table\'s F', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-'));
    const g = sampleGenotype(new Rng(4), { blocks: 5, layers: 4 });
    fakeTrial(dir, 7, [0.3], g, COSTED);
    const html = await buildReport(dir);
    assert.match(html, /Fig\. 4/);
    const c = networkCost(new MultiAddsTable({ filterMultiplier: 20, blocks: 5, numClasses: 19, size: [1024, 2048] }), g.cell!, g.path);
    assert.match(html, new RegExp(`<tr><td>-</td><td>7</td><td>${(c / 1e9).toFixed(2)} B</td><td>30\\.00</td><td>supernet</td></tr>`));
    assert.deepEqual(Object.keys(positions(html).markers).sort(), ['L', 'M', 'S']);

    const ms = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-sweep-ms-'));
    const shape = { filterMultiplier: 32, blocks: 5, numClasses: 19, size: [64, 128] as [number, number] };
    const table = assembleTable(shape, 'libtorch', 1, 'cpu', (key) => key.length / 10); // synthetic, distinct per part
    const budget: Budget = { limit: 50, unit: 'ms', size: shape.size, filterMultiplier: 32, weight: 1 };
    fakeTrial(path.join(ms, 'budget-50'), 0, [0.2], g, { ...COSTED, budget, loggedCost: 41.5 });
    const noTable = await buildReport(ms);
    assert.match(noTable, /S \/ M \/ L not marked: no latency-table\.json/);
    fs.writeFileSync(path.join(ms, 'latency-table.json'), JSON.stringify(table));
    const withTable = positions(await buildReport(ms));
    assert.deepEqual(Object.keys(withTable.markers).sort(), ['50 ms', 'M'], 'F = 32: Auto-DeepLab-M only');
    // The point (its logged 41.5 ms) and the budget fix the axis; M sits at the table's price of the released network.
    const point = Object.entries(withTable.points).find(([t]) => t.includes('41.50 ms'))![1];
    const a = (withTable.markers['50 ms'] - point) / (50 - 41.5);
    const m = networkCost(new LatencyTable(table), AUTO_DEEPLAB_GENOTYPE.cell!, AUTO_DEEPLAB_GENOTYPE.path);
    assert.ok(Math.abs(withTable.markers.M - (point + a * (m - 41.5))) < 1, `M at ${withTable.markers.M}, its ${m} ms at ${point + a * (m - 41.5)}`);
    fs.writeFileSync(path.join(ms, 'latency-table.json'), JSON.stringify(assembleTable({ ...shape, filterMultiplier: 8 }, 'libtorch', 1, 'cpu', () => 1)));
    assert.match(await buildReport(ms), /measured at F = 8, B = 5/);
    fs.rmSync(dir, { recursive: true });
    fs.rmSync(ms, { recursive: true });
  });
});
