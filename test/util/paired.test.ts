/** Spread and the paired test against hand-computed closed forms. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { pairedTest, spread } from '../../src/util/paired';

describe('paired statistics', () => {
  it('spread: mean, sample std, min and max', () => {
    const s = spread([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(s.mean, 5);
    assert.ok(Math.abs(s.std - Math.sqrt(32 / 7)) < 1e-12);
    assert.deepEqual([s.min, s.max, s.n], [2, 9, 8]);
    assert.equal(spread([3]).std, 0);
  });

  it('t statistic: d = 1, 2, 3 gives mean 2, std 1, t = 2 sqrt(3)', () => {
    const p = pairedTest([2, 4, 6], [1, 2, 3]);
    assert.deepEqual(p.differences, [1, 2, 3]);
    assert.ok(Math.abs(p.t! - 2 * Math.sqrt(3)) < 1e-12);
    assert.equal(p.wins, 3);
    // Only the all-plus and all-minus sign flips reach |sum| = 6: 2 of 8.
    assert.equal(p.permutationP, 0.25);
  });

  it('permutation p-value equals the subset-sum count: d = 1, -2, 3, 4', () => {
    // A sign flip negating subset S of the magnitudes {1,2,3,4} sums to 10 - 2 sum(S); the observed |sum| is 6.
    // |10 - 2x| >= 6 for x <= 2 ({}, {1}, {2}) or x >= 8 ({1,3,4}, {2,3,4}, {1,2,3,4}): 6 of 16.
    const p = pairedTest([1, -2, 3, 4], [0, 0, 0, 0]);
    assert.equal(p.permutationP, 6 / 16);
    assert.equal(p.wins, 3);
  });

  it('no difference: p = 1, t undefined', () => {
    const p = pairedTest([1, 1], [1, 1]);
    assert.equal(p.permutationP, 1);
    assert.equal(p.t, null);
  });
});
