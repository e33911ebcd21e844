/**
 * search and train on a folder dataset with bad files, as a user runs them:
 * exit 2 with the file (and pixel) named and no stack trace, or the bad
 * samples left out and listed with --skip-bad. And on one without split
 * lists: validation on held-out images, said and recorded.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { folderDataset } from './fixtures';
import { openDataset } from '../../src/data/registry';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
const SMALL_SEARCH = ['--epochs', '2', '--arch-start-epoch', '1', '--crop', '33', '--batch-size', '2', '--layers', '1', '--blocks', '2',
  '--filter-multiplier', '1', '--threads', '1'];
const STACK_TRACE = /\n\s+at .*\.js:\d+/;

describe('search and train on a dataset with bad files', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-runs-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true }));

  it('search: a label out of range exits 2 naming the mask and the pixel, without a stack trace', async () => {
    const root = await folderDataset(6, 40, { 3: 'label-out-of-range' });
    const r = run('search', '--dataset', 'folder', '--data-root', root, ...SMALL_SEARCH, '--out', path.join(tmp, 's1'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /masks\/s3\.png: label 9 at pixel \(5, 1\) is out of range \(expected 0..2 or 255\)/);
    assert.doesNotMatch(r.stderr, STACK_TRACE);
    fs.rmSync(root, { recursive: true });
  });

  it('search --skip-bad: the corrupt and truncated files are left out and listed, the run finishes', async () => {
    const root = await folderDataset(6, 40, { 1: 'truncated-mask', 4: 'corrupt-image' });
    const r = run('search', '--dataset', 'folder', '--data-root', root, ...SMALL_SEARCH, '--out', path.join(tmp, 's2'), '--skip-bad');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /masks\/s1\.png: corrupt or truncated label map/);
    assert.match(r.stderr, /images\/s4\.png: corrupt or truncated image/);
    assert.match(r.stdout, /search finished/);
    fs.rmSync(root, { recursive: true });
  });

  it('train: a truncated mask exits 2 naming it before the first step', async () => {
    const root = await folderDataset(4, 40, { 2: 'truncated-mask' });
    const r = run('train', '--dataset', 'folder', '--data-root', root, '--crop', '33', '--iterations', '2', '--threads', '1', '--out', path.join(tmp, 't1'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /masks\/s2\.png: corrupt or truncated label map/);
    assert.doesNotMatch(r.stderr, STACK_TRACE);
    assert.ok(!fs.existsSync(path.join(tmp, 't1', 'checkpoint.safetensors')));
    fs.rmSync(root, { recursive: true });
  });

  it('train on a folder without train.txt / val.txt validates on held-out images, says so, and records the rule in config.json', async () => {
    const root = await folderDataset(10, 40);
    const out = path.join(tmp, 't2');
    const r = run('train', '--dataset', 'folder', '--data-root', root, '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40',
      '--batch-size', '2', '--iterations', '2', '--threads', '1', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const said = /dataset 'folder': no train\.txt \/ val\.txt: val is 1 of the 10 images held out \(a fixed 10%, seed 0\), train the other 9\n/g;
    assert.equal(r.stderr.match(said)?.length, 1, r.stderr); // once, for train and val alike
    assert.match(r.stdout, /validation mIoU \d+\.\d\d%/);
    const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
    const rule = { rule: 'held out', fraction: 0.1, seed: 0, train: 9, val: 1 };
    assert.deepEqual(config.derivedSplits, [{ split: 'train', ...rule }, { split: 'val', ...rule }]);
    // Oracle: the tenth first by SHA-256 of "0:NAME", the rest in train; none in both.
    const names = Array.from({ length: 10 }, (_, i) => `s${i}`);
    const key = (n: string) => createHash('sha256').update(`0:${n}`).digest('hex');
    const expectedVal = names.map((n) => [key(n), n]).sort()[0][1];
    const ids = async (split: string) => {
      const ds = openDataset('folder', { root, split });
      return Promise.all(Array.from({ length: ds.length }, async (_, i) => (await ds.get(i)).id));
    };
    assert.deepEqual(await ids('val'), [expectedVal]);
    assert.deepEqual(await ids('train'), names.filter((n) => n !== expectedVal));
    fs.rmSync(root, { recursive: true });
  });
});
