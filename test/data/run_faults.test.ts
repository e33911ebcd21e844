/**
 * search and train on a folder dataset with bad files, as a user runs them:
 * exit 2 with the file (and pixel) named and no stack trace, or the bad
 * samples left out and listed with --skip-bad.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { folderDataset } from './fixtures';

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
});
