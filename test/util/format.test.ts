/** Durations and percentages as printed: against a plain table of cases. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { formatDuration, percent } from '../../src/util/format';

describe('formatDuration', () => {
  it('gives the two largest units, rounded to the smaller, and -- until measured', () => {
    const cases: [number, string][] = [
      [NaN, '--'], [Infinity, '--'], [-1, '--'],
      [0, '0s'], [0.4, '0s'], [7.6, '8s'], [59.4, '59s'], [59.6, '1m 00s'],
      [185, '3m 05s'], [3599.4, '59m 59s'], [3599.6, '1h 00m'],
      [2 * 3600 + 14 * 60 + 10, '2h 14m'], [2 * 3600 + 14 * 60 + 40, '2h 15m'], [86399, '1d 0h'],
      [1141499, '13d 5h'], [1141499 + 1800, '13d 6h'], [100 * 86400, '100d 0h'],
    ];
    for (const [s, text] of cases) assert.equal(formatDuration(s), text, `${s} s`);
  });
});

describe('percent', () => {
  it('prints a fraction in percent with two decimals', () => {
    const cases: [number, string][] = [[0, '0.00%'], [0.0853, '8.53%'], [0.12346, '12.35%'], [1, '100.00%']];
    for (const [x, text] of cases) assert.equal(percent(x), text);
  });
});
