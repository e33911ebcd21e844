/** The profile and batchnorm benches: bad flags exit 2 with a message naming the flag, before any workload is built. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const MAIN = path.join(__dirname, '..', '..', 'bench', 'main.js');
const bench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench flags', () => {
  for (const suite of ['profile', 'batchnorm']) {
    it(`${suite}: --crop that is not a whole number >= 16, and --what other than search or train, exit 2 naming the flag`, () => {
      for (const bad of ['abc', '8', '31.5']) {
        const r = bench(suite, '--crop', bad);
        assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^bench ${suite}: --crop: expected a whole number >= 16.*got '${bad.replace('.', '\\.')}'`, 'm'));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a bad flag');
      }
      const r = bench(suite, '--what', 'eval');
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^bench ${suite}: --what: expected search or train, got 'eval'`, 'm'));
    });
  }

  it('profile: --rounds that is not a whole number >= 1 exits 2 naming the flag', () => {
    for (const bad of ['0', 'x', '1.5']) {
      const r = bench('profile', '--rounds', bad);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^bench profile: --rounds: expected a whole number >= 1, got '${bad.replace('.', '\\.')}'`, 'm'));
    }
  });

  it('an unknown suite exits 2 naming the suites', () => {
    const r = bench('nonsense');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown bench suite 'nonsense'; choose one of: .*batchnorm/);
  });
});
