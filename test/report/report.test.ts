/** The run report renders in headless Chromium: charts drawn, diagrams present, no console errors. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
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

  it('renders in headless Chromium with non-empty charts and no console errors', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-report-'));
    const run = path.join(dir, 'search');
    const r = spawnSync(process.execPath, [CLI, 'search', '--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '3',
      '--blocks', '3', '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '2', '--out', run], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rep = spawnSync(process.execPath, [CLI, 'report', run], { encoding: 'utf8' });
    assert.equal(rep.status, 0, rep.stderr);
    const html = fs.readFileSync(path.join(run, 'report.html'), 'utf8');
    assert.ok((html.match(/<svg /g) ?? []).length >= 6, 'curves, diagrams and heatmaps');
    assert.match(html, /data:image\/png;base64,/);
    const shot = path.join(dir, 'shot.png');
    const chrome = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, 'profile')}`,
      '--enable-logging=stderr', '--v=0', '--window-size=1000,2400', `--screenshot=${shot}`, `file://${path.join(run, 'report.html')}`],
    { encoding: 'utf8', timeout: 60_000 });
    assert.equal(chrome.status, 0, chrome.stderr);
    assert.doesNotMatch(chrome.stderr, /CONSOLE\(\d+\)|Uncaught/, 'console errors');
    const { data, info } = await sharp(shot).raw().toBuffer({ resolveWithObject: true });
    let nonWhite = 0;
    let pathBlue = 0;
    for (let p = 0; p < info.width * info.height; p++) {
      const [r0, g0, b0] = [data[p * info.channels], data[p * info.channels + 1], data[p * info.channels + 2]];
      if (r0 < 240 || g0 < 240 || b0 < 240) nonWhite++;
      if (Math.abs(r0 - 0x1f) < 12 && Math.abs(g0 - 0x5f) < 12 && Math.abs(b0 - 0xbf) < 12) pathBlue++;
    }
    assert.ok(nonWhite / (info.width * info.height) > 0.03, `only ${nonWhite} non-white pixels`);
    assert.ok(pathBlue > 200, `the network path is not drawn (${pathBlue} pixels)`);
    fs.rmSync(dir, { recursive: true });
  });

  it('a folder that is not a run directory is a clear error', () => {
    const r = spawnSync(process.execPath, [CLI, 'report', os.tmpdir()], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /is not a run directory \(no metrics.jsonl/);
  });
});
