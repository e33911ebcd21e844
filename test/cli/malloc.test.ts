/**
 * bin/node-tcmalloc and bin/autodeeplab run node with Debian's tcmalloc as
 * malloc (docs/performance.md#the-allocator); AUTODEEPLAB_MALLOC=system opts
 * out. The oracle is the child's own /proc/self/maps and LD_PRELOAD.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const NODE_TCMALLOC = path.join(ROOT, 'bin', 'node-tcmalloc');
const TCMALLOC = `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu/libtcmalloc_minimal.so.4`;
const PROBE = "const m = require('fs').readFileSync('/proc/self/maps', 'utf8'); console.log(JSON.stringify({ mapped: /libtcmalloc/.test(m), preload: process.env.LD_PRELOAD ?? '' }))";

function probe(env: NodeJS.ProcessEnv): { mapped: boolean; preload: string } {
  const clean = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete clean[k];
  return JSON.parse(execFileSync(NODE_TCMALLOC, ['-e', PROBE], { env: clean, encoding: 'utf8' })) as { mapped: boolean; preload: string };
}

describe('bin/node-tcmalloc: node with tcmalloc as malloc', () => {
  it('npm run setup installed Debian\'s libtcmalloc-minimal4', () => {
    assert.ok(fs.existsSync(TCMALLOC), `${TCMALLOC} missing: scripts/setup.sh installs libtcmalloc-minimal4`);
  });

  it('preloads tcmalloc, once, keeping other preloads', () => {
    const plain = probe({ LD_PRELOAD: undefined, AUTODEEPLAB_MALLOC: undefined });
    assert.ok(plain.mapped, 'tcmalloc not mapped');
    assert.equal(plain.preload, TCMALLOC);
    const again = probe({ LD_PRELOAD: TCMALLOC, AUTODEEPLAB_MALLOC: undefined });
    assert.equal(again.preload, TCMALLOC, 'added twice');
    const other = '/usr/lib/x86_64-linux-gnu/libm.so.6';
    assert.equal(probe({ LD_PRELOAD: other, AUTODEEPLAB_MALLOC: undefined }).preload, `${TCMALLOC}:${other}`);
  });

  it('AUTODEEPLAB_MALLOC=system keeps glibc\'s malloc', () => {
    const r = probe({ LD_PRELOAD: undefined, AUTODEEPLAB_MALLOC: 'system' });
    assert.equal(r.mapped, false);
    assert.equal(r.preload, '');
    const other = '/usr/lib/x86_64-linux-gnu/libm.so.6';
    const inherited = probe({ LD_PRELOAD: `${TCMALLOC}:${other}`, AUTODEEPLAB_MALLOC: 'system' }); // from a parent under the script
    assert.equal(inherited.mapped, false);
    assert.equal(inherited.preload, other);
  });

  it('autodeeplab doctor names the malloc it runs on', () => {
    const run = (env: NodeJS.ProcessEnv) => {
      try {
        return execFileSync(path.join(ROOT, 'bin', 'autodeeplab'), ['doctor'], { env: { ...process.env, ...env }, encoding: 'utf8' });
      } catch (e) {
        return (e as { stdout: string }).stdout; // exit 1 on a slow BLAS still prints the report
      }
    };
    assert.match(run({}), new RegExp(`^malloc: tcmalloc \\(${TCMALLOC.replace(/\./g, '\\.')}[.\\d]*\\)$`, 'm')); // the mapped file: libtcmalloc_minimal.so.4.5.10
    assert.match(run({ AUTODEEPLAB_MALLOC: 'system' }), /^malloc: glibc malloc/m);
  });
});
