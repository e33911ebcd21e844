/**
 * `report` on runs of an on-disk dataset (issue 22, item 2), as a user runs
 * it: the run directory alone is enough (config.json records the data's
 * folder), predictions are drawn where the data is found, left out with a
 * note where it is not, and --data-root points at data that moved.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { folderDataset } from '../data/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 300_000 });
const SMALL = ['--crop', '33', '--batch-size', '2', '--filter-multiplier', '1', '--threads', '1'];
/** The three pictures of a sample row (image, ground truth, prediction), as data URIs. */
const pictures = (html: string) => (html.match(/<img src="data:image\/png;base64,/g) ?? []).length;

describe('report on a run of a folder dataset', () => {
  let tmp: string;
  let root: string;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-report-data-'));
    root = await folderDataset(25, 40); // no split lists: val is the held-out tenth, 3 images for the report's 3 samples
  });
  after(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('search and train record the data folder; report draws predictions from the run directory alone, or says why not', () => {
    const search = path.join(tmp, 'search');
    const s = run('search', '--dataset', 'folder', '--data-root', path.relative(process.cwd(), root), '--epochs', '2', '--arch-start-epoch', '1',
      '--layers', '1', '--blocks', '2', ...SMALL, '--out', search);
    assert.equal(s.status, 0, s.stderr);
    const cfg = JSON.parse(fs.readFileSync(path.join(search, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(cfg.dataRoot, root, 'the folder, absolute');
    const r = run('report', search);
    assert.equal(r.status, 0, r.stderr);
    const html = fs.readFileSync(path.join(search, 'report.html'), 'utf8');
    assert.equal(pictures(html), 3 * 3, 'three samples: image, ground truth, prediction');
    assert.match(html, /dataset 'folder', val split/);
    assert.match(html, /class="legend"/);

    const train = path.join(tmp, 'train');
    const t = run('train', '--dataset', 'folder', '--data-root', root, '--genotype', path.join(search, 'genotype.json'), ...SMALL, '--iterations', '2', '--out', train);
    assert.equal(t.status, 0, t.stderr);
    const tr = run('report', train);
    assert.equal(tr.status, 0, tr.stderr);
    assert.equal(pictures(fs.readFileSync(path.join(train, 'report.html'), 'utf8')), 9);

    // The data moved: the report is still written, without predictions, and says how to point at the data.
    const moved = `${root}-moved`;
    fs.renameSync(root, moved);
    try {
      const m = run('report', search);
      assert.equal(m.status, 0, m.stderr);
      const page = fs.readFileSync(path.join(search, 'report.html'), 'utf8');
      assert.equal(pictures(page), 0);
      assert.match(page, new RegExp(`Sample predictions not drawn: the data of dataset 'folder' is not at ${root}, where the run read it; pass --data-root DIR`));
      const o = run('report', search, '--data-root', moved);
      assert.equal(o.status, 0, o.stderr);
      assert.equal(pictures(fs.readFileSync(path.join(search, 'report.html'), 'utf8')), 9);
      const bad = run('report', search, '--data-root', path.join(tmp, 'nowhere'));
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--data-root: .*nowhere does not exist/);
    } finally {
      fs.renameSync(moved, root);
    }
    // A run from before runs recorded the folder: the note asks for --data-root.
    const { dataRoot: _, ...old } = cfg;
    fs.writeFileSync(path.join(search, 'config.json'), JSON.stringify(old));
    const o = run('report', search);
    assert.equal(o.status, 0, o.stderr);
    assert.match(fs.readFileSync(path.join(search, 'report.html'), 'utf8'), /config\.json records no folder for dataset 'folder' .*; pass --data-root DIR/);
  });
});
