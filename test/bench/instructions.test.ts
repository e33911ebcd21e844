/** `npm run bench -- instructions`: bad flags exit 2 with a message naming the flag, before any valgrind run. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const MAIN = path.join(__dirname, '..', '..', 'bench', 'main.js');
const bench = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'instructions', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('bench instructions', () => {
  it('--against a folder without a built checkout exits 2 naming it', () => {
    const r = bench('--against', '/nonexistent/checkout');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--against \/nonexistent\/checkout: no dist\/bench\/search_worker\.js there/);
  });

  it('--crop that is not a positive integer exits 2 naming the flag', () => {
    for (const bad of ['abc', '0', '-32', '31.5']) {
      const r = bench('--crop', bad);
      assert.equal(r.status, 2, `${bad}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`--crop ${bad.replace('.', '\\.')}: expected a crop size in pixels`));
    }
  });
});
