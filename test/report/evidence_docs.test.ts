/**
 * The docs' generated blocks (issue 20): every `<!-- evidence:NAME -->` block
 * of README.md and docs/*.md holds exactly what docs/results/NAME.json gives
 * (the check `npm run evidence -- --check` runs), and the check fails on an
 * edited number.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkBlocks, fillBlocks, readResult, renderEvidence } from '../../src/report/evidence_docs';
import { EvidenceResult } from '../../src/report/evidence_tables';

const ROOT = path.resolve(__dirname, '..', '..', '..');

describe('generated evidence blocks', () => {
  it('every generated block in README.md and docs/*.md matches docs/results/*.json', () => {
    assert.deepEqual(checkBlocks(ROOT), []);
  });

  it('an edited number in a block is found; filling restores it', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-evidence-'));
    fs.mkdirSync(path.join(root, 'docs', 'results'), { recursive: true });
    const result: EvidenceResult = {
      name: 'table2', date: '2026-12-03T00:00:00.000Z', commit: 'abcdef0123456789', quick: true, commands: ['autodeeplab cost --arch autodeeplab-s --size 1024x2048 --json'],
      machine: { cpu: 'a CPU', threads: 2, libtorch: '1.13.0', blas: 'OpenBLAS', sgemmGflops: { oneThread: 1, allThreads: 2 } },
      data: { presets: [{ arch: 'autodeeplab-s', params: 10147427, multiAdds: 315137185920 }], paths: [{ layers: 12, count: 75025, pinned: 28657 }] },
    };
    fs.writeFileSync(path.join(root, 'docs', 'results', 'table2.json'), JSON.stringify(result));
    const doc = path.join(root, 'docs', 'page.md');
    const filled = fillBlocks('# page\n\n<!-- evidence:table2 -->\nstale\n<!-- /evidence:table2 -->\n', (n) => readResult(root, n));
    assert.match(filled, /\| autodeeplab-s \| 10,147,427 \| 315\.137 B \|/);
    assert.match(filled, /\| 12 \| 75,025 \| 28,657 \|/);
    assert.match(filled, /on a CPU \(2 threads\), libtorch 1\.13\.0, BLAS OpenBLAS, commit abcdef0123/);
    fs.writeFileSync(doc, filled);
    assert.deepEqual(checkBlocks(root), []);
    fs.writeFileSync(doc, filled.replace('75,025', '75,026'));
    assert.deepEqual(checkBlocks(root), ['docs/page.md: evidence:table2']);
    assert.match(renderEvidence('compare', null), /Not measured yet/);
    assert.throws(() => renderEvidence('nonsense', null), /no such table/);
    fs.rmSync(root, { recursive: true });
  });
});
