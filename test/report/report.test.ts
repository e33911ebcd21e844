/** The run report's diagrams and errors (its rendering in Chromium: render.test.ts). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { cellSvg, trellisSvg } from '../../src/report/diagrams';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('run report', () => {
  it('diagrams draw the path through the right nodes and every op of the cell', () => {
    const t = trellisSvg(AUTO_DEEPLAB_GENOTYPE);
    const path12 = /<polyline fill="none" stroke="#1f5fbf"[^>]*points="([^"]+)"/.exec(t)![1].split(' ');
    assert.equal(path12.length, 13); // stem + 12 layers
    const ys = path12.map((p) => Number(p.split(',')[1]));
    assert.deepEqual(ys.slice(1).map((y) => (y - 40) / 62), [...AUTO_DEEPLAB_GENOTYPE.path]);
    const c = cellSvg(AUTO_DEEPLAB_GENOTYPE.cell);
    for (const b of AUTO_DEEPLAB_GENOTYPE.cell.blocks) for (const br of b) assert.ok(c.includes(`>${br.op}<`));
  });

  it('a folder that is not a run directory is a clear error', () => {
    const r = spawnSync(process.execPath, [CLI, 'report', os.tmpdir()], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is not a run directory \(no metrics.jsonl/);
  });
});
