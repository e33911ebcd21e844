/** The report's budget section: drawn only for budgeted runs, with the expected and decoded cost and the released S / M / L. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { budgetSections } from '../../src/report/budget';
import { specsOf } from '../../src/report/vega';

const round = (v: number) => Math.round(v * 1e6) / 1e6;

describe('report: cost budget', () => {
  it('a budgeted run gets the cost-per-epoch chart and the cost / mIoU scatter with S, M, L at their Multi-Adds', () => {
    const epochs = [0, 1, 2].map((e) => ({ type: 'epoch', epoch: e, mIoU: 0.1 + 0.05 * e, budget: { limit: 250e9, unit: 'multiAdds', expected: 300e9 - 10e9 * e, cost: 240e9 + e * 1e9, penalty: 0.1 } }));
    const html = budgetSections(epochs, { numClasses: 19, budget: { size: [1024, 2048] } });
    assert.match(html, /<h2>Cost budget<\/h2>/);
    const [cost, scatter] = specsOf(html) as { data?: { values: { series: string; y: number }[] }; layer?: { data: { values: { name?: string; x: number; y?: number }[] } }[] }[];
    assert.deepEqual([...new Set(cost.data!.values.map((v) => v.series))], ['expected (relaxed)', 'decoded (exact)', 'budget']);
    assert.deepEqual(cost.data!.values.filter((v) => v.series === 'decoded (exact)').map((v) => round(v.y)), [240, 241, 242]);
    assert.deepEqual(scatter.layer![2].data.values.map((p) => [round(p.x), round(p.y!)]), [[240, 10], [241, 15], [242, 20]]);
    // S / M / L at the Multi-Adds of src/report/budget.ts's count (Table 2's setting: 1024x2048, 19 classes).
    const markers = Object.fromEntries(scatter.layer![0].data.values.map((m) => [m.name, m.x]));
    assert.deepEqual(Object.keys(markers).sort(), ['L', 'M', 'S', 'budget']);
    for (const [n, b] of [['S', 315.14], ['M', 431.0], ['L', 647.08], ['budget', 250]] as const) assert.ok(Math.abs(markers[n] - b) < 0.01, `${n} at ${markers[n]}`);
    assert.equal(budgetSections([{ type: 'epoch', epoch: 0, mIoU: 0.2 }], {}), '');
  });

  it('an ms budget with a margin draws the budget less the margin beside the budget', () => {
    const epochs = [0, 1].map((e) => ({ type: 'epoch', epoch: e, mIoU: 0.2, budget: { limit: 70, unit: 'ms', expected: 68, cost: 63 + e, penalty: 0, effectiveLimit: 63.8 } }));
    const [cost, scatter] = specsOf(budgetSections(epochs, { numClasses: 6, budget: { size: [64, 128] } })) as { data?: { values: { series: string; y: number }[] }; layer?: { data: { values: { name?: string; x: number }[] } }[] }[];
    assert.deepEqual(cost.data!.values.filter((v) => v.series.startsWith('budget')).map((v) => [v.series, v.y]), [['budget', 70], ['budget', 70], ['budget less margin', 63.8], ['budget less margin', 63.8]]);
    assert.deepEqual(Object.fromEntries(scatter.layer![0].data.values.map((m) => [m.name, m.x])), { budget: 70, 'budget less margin': 63.8 });
  });
});
