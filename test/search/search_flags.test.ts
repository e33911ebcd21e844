/**
 * --untied-cells and --alpha-per-layer from the command line: recorded in
 * config.json and the checkpoint, a genotype with a cell per layer, and a
 * resume with other flags refused (exit 2, naming the fields), and a report
 * of the run.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { loadCheckpoint } from '../../src/run/checkpoint';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('search --untied-cells --alpha-per-layer', () => {
  it('records both, writes a cell per layer, and refuses a resume without them', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-search-flags-'));
    const args = ['search', '--epochs', '2', '--arch-start-epoch', '0', '--crop', '33', '--layers', '3', '--blocks', '2',
      '--filter-multiplier', '1', '--builtin-size', '8', '--builtin-image-size', '40', '--threads', '1', '--out', out];
    const flags = ['--untied-cells', '--alpha-per-layer'];
    const first = spawnSync(process.execPath, [CLI, ...args, ...flags, '--max-iterations', '2'], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    assert.deepEqual([config.untiedCells, config.alphaPerLayer], [true, true]);
    const ck = loadCheckpoint(path.join(out, 'checkpoint.safetensors'));
    const saved = ck.meta.config as Record<string, unknown>;
    assert.deepEqual([saved.untiedCells, saved.alphaPerLayer], [true, true]);
    assert.equal(ck.tensors.alpha.shape[0], 3); // (L, edges, ops)
    T.dispose(Object.values(ck.tensors));
    const genotype = JSON.parse(fs.readFileSync(path.join(out, 'genotype.json'), 'utf8'));
    assert.equal(genotype.cell, undefined);
    assert.equal(genotype.cells.length, 3);
    assert.equal(genotype.search.alpha.length, 3);

    const refused = spawnSync(process.execPath, [CLI, ...args, '--untied-cells', '--resume'], { encoding: 'utf8' });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /other settings \(alphaPerLayer: saved true, now false\); resume with the same flags/);
    const resumed = spawnSync(process.execPath, [CLI, ...args, ...flags, '--resume'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, /search finished after \d+ iterations/);
    // The report draws each layer's cell, alpha per layer, and predicts with the (untied, per-layer) supernet it rebuilds.
    const report = spawnSync(process.execPath, [CLI, 'report', out], { encoding: 'utf8' });
    assert.equal(report.status, 0, report.stderr);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    assert.match(html, /cell of layers? [0-9, ]+: 2 blocks/);
    assert.ok(html.includes('L3 block1 ← '), 'alpha rows of layer 3');
    assert.match(html, /data:image\/png;base64,/);
    fs.rmSync(out, { recursive: true });
  });
});
