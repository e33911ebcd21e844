/** `autodeeplab check-data` as a user runs it: a clean dataset exits 0, every bad file is listed and exits 2. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { folderDataset } from '../data/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('autodeeplab check-data', () => {
  it('a clean dataset without split lists: exit 0, the held-out split said, and a summary', async () => {
    const root = await folderDataset(3, 40);
    const r = run('check-data', '--dataset', 'folder', '--data-root', root);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^train: no train\.txt \/ val\.txt: val is 1 of the 3 images held out \(a fixed 10%, seed 0\), train the other 2$/m);
    assert.match(r.stdout, /^train: 2 sample\(s\), 0 bad$/m);
    assert.match(r.stdout, /^val: 1 sample\(s\), 0 bad$/m); // not one of train's
    assert.match(r.stdout, /check-data: all 3 sample\(s\) decode/);
    fs.rmSync(root, { recursive: true });
  });

  it('every bad file is named, per split, and the exit code is 2', async () => {
    const root = await folderDataset(6, 40, { 0: 'corrupt-image', 2: 'missing-mask', 3: 'truncated-mask', 5: 'label-out-of-range' }, { allInTrain: true });
    fs.writeFileSync(path.join(root, 'val.txt'), 's4\ns5\n');
    const r = run('check-data', '--dataset', 'folder', '--data-root', root);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stdout, /^train: 6 sample\(s\), 4 bad$/m);
    assert.match(r.stdout, /images\/s0\.png: corrupt or truncated image/);
    assert.match(r.stdout, /masks\/s2\.png: label map not found/);
    assert.match(r.stdout, /masks\/s3\.png: corrupt or truncated label map/);
    assert.match(r.stdout, /masks\/s5\.png: label 9 at pixel \(5, 1\) is out of range/);
    assert.doesNotMatch(r.stdout, /s1\.png|s4\.png/);
    // val's samples were decoded under train; its one bad sample is still listed under val.
    assert.match(r.stdout, /^val: 2 sample\(s\) \(2 checked under an earlier split\), 1 bad\n {2}.*masks\/s5\.png/m);
    assert.match(r.stderr, /check-data: 4 of 6 sample\(s\) have bad files/);
    fs.rmSync(root, { recursive: true });
  });

  it('bad usage: a missing split, a missing root, an unknown dataset exit 2 naming them; --help has examples', async () => {
    const root = await folderDataset(2, 40);
    fs.writeFileSync(path.join(root, 'train.txt'), 's0\nnope\n');
    const list = run('check-data', '--dataset', 'folder', '--data-root', root, '--split', 'train');
    assert.equal(list.status, 2);
    assert.match(list.stderr, /train.txt: 'nope' has no image/);
    const typo = run('check-data', '--dataset', 'folder', '--data-root', root, '--split', 'trian');
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /--split: no split 'trian' in .* \(expected trian.txt/);
    fs.rmSync(root, { recursive: true });
    const noRoot = run('check-data', '--dataset', 'voc');
    assert.equal(noRoot.status, 2);
    assert.match(noRoot.stderr, /--data-root: dataset 'voc' needs the folder/);
    const vocSplit = run('check-data', '--dataset', 'voc', '--data-root', '/nonexistent-adl');
    assert.equal(vocSplit.status, 2);
    assert.match(vocSplit.stderr, /nonexistent-adl\/VOCdevkit\/VOC2012: folder not found/);
    const unknown = run('check-data', '--dataset', 'imagenet', '--data-root', '/tmp');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /--dataset: unknown dataset 'imagenet'/);
    const help = run('check-data', '--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Examples:[\s\S]*check-data --dataset folder --data-root/);
  });
});
