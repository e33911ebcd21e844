/** The run report's diagrams and errors (its rendering in Chromium: render.test.ts). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { cellSvg, trellisSvg } from '../../src/report/diagrams';
import { configTable } from '../../src/report/config_table';

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

  it('the configuration table groups fields by purpose, nested ones by their dotted name, a genotype as the CLI prints it', () => {
    const html = configTable({ dataset: 'voc', dataRoot: '/data/voc', layers: 4, weightLr: 0.1, seed: 3, budget: { limit: 2e11, unit: 'multiAdds' },
      model: { genotype: AUTO_DEEPLAB_GENOTYPE, bn: { momentum: 0.1 } }, train: { lr: 0.05, crop: 769, evalEvery: 10 }, odd: true });
    const groups: Record<string, string[]> = {};
    let group = '';
    for (const m of html.matchAll(/<th colspan="2">([^<]+)<\/th>|<tr><td>([^<]+)<\/td>/g)) {
      if (m[1]) group = m[1];
      else (groups[group] ??= []).push(m[2]);
    }
    assert.deepEqual(groups, {
      Data: ['dataset', 'dataRoot', 'train.crop'], 'Cost budget': ['budget.limit', 'budget.unit'],
      Network: ['layers', 'model.genotype', 'model.bn.momentum'], 'Schedule and optimisers': ['weightLr', 'train.lr'],
      Run: ['seed', 'train.evalEvery'], Other: ['odd'],
    });
    assert.deepEqual(Object.keys(groups), ['Data', 'Cost budget', 'Network', 'Schedule and optimisers', 'Run', 'Other'], 'groups in order');
    assert.ok(html.includes('block0 = atrous5x5(prevPrev) + sep3x3(prev)'), 'the genotype as the CLI prints it');
    assert.ok(html.includes('path (output stride per layer): 4 4 4 8 16 8 16 16 32 32 16 8'));
  });

  it('a folder that is not a run directory is a clear error', () => {
    const r = spawnSync(process.execPath, [CLI, 'report', os.tmpdir()], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is not a run directory \(no metrics.jsonl/);
  });
});
