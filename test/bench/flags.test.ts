/** The profile and batchnorm benches: bad flags exit 2 with a message naming the flag, before any workload is built. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const MAIN = path.join(__dirname, '..', '..', 'bench', 'main.js');
const bench = (...args: string[]) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench flags', () => {
  for (const suite of ['profile', 'batchnorm', 'digest']) {
    it(`${suite}: --crop that is not a whole number >= 16${suite === 'digest' ? '' : ', and --what other than search or train,'} exit 2 naming the flag`, () => {
      for (const bad of ['abc', '8', '31.5']) {
        const r = bench(suite, '--crop', bad);
        assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`^bench ${suite}: --crop: expected a whole number >= 16.*got '${bad.replace('.', '\\.')}'`, 'm'));
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace for a bad flag');
      }
      if (suite === 'digest') return; // no --what
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

  it('digest: --iterations that is not a whole number >= 1 exits 2 naming the flag', () => {
    const r = bench('digest', '--iterations', '0');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^bench digest: --iterations: expected a whole number >= 1, got '0'/m);
  });

  it('digest: the same run gives the same digests, one more iteration other ones', () => {
    const run = (n: number) => {
      const r = bench('digest', '--tiny', '--crop', '32', '--iterations', String(n), '--threads', '1');
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout.trim().split('\n').pop()!) as { digests: Record<string, string> };
    };
    const [a, b, c] = [run(1), run(1), run(2)];
    assert.deepEqual(Object.keys(a.digests), ['shared keep', 'shared recompute', 'untied keep', 'untied recompute']);
    assert.deepEqual(a.digests, b.digests);
    for (const k of Object.keys(a.digests)) assert.notEqual(c.digests[k], a.digests[k], k);
  });

  it('an unknown suite exits 2 naming the suites', () => {
    const r = bench('nonsense');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown bench suite 'nonsense'; choose one of: .*batchnorm/);
  });
});
