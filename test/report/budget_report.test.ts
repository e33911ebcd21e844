/** The report's budget section: drawn only for budgeted runs, with the expected and decoded cost and the released S / M / L. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { budgetSections } from '../../src/report/budget';

describe('report: cost budget', () => {
  it('a budgeted run gets the cost-per-epoch chart and the cost / mIoU scatter with S, M, L at their Multi-Adds', () => {
    const epochs = [0, 1, 2].map((e) => ({ type: 'epoch', epoch: e, mIoU: 0.1 + 0.05 * e, budget: { limit: 250e9, unit: 'multiAdds', expected: 300e9 - 10e9 * e, cost: 240e9 + e * 1e9, penalty: 0.1 } }));
    const html = budgetSections(epochs, { numClasses: 19, budget: { size: [1024, 2048] } });
    assert.match(html, /<h2>Cost budget<\/h2>/);
    assert.equal((html.match(/<svg/g) ?? []).length, 2);
    assert.equal((html.match(/<circle/g) ?? []).length, 3);
    for (const name of ['>S<', '>M<', '>L<', '>budget<', 'expected (relaxed)', 'decoded (exact)']) assert.ok(html.includes(name), name);
    assert.equal(budgetSections([{ type: 'epoch', epoch: 0, mIoU: 0.2 }], {}), '');
  });
});
