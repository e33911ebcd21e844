/**
 * The pre-check finds every bad file before a run starts: the oracle is a
 * plain loop that decodes each sample and records which ones fail.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { SegmentationDataset } from '../../src/data/dataset';
import { inspectDataset, preflightDataset } from '../../src/data/preflight';
import { DatasetError } from '../../src/data/readers/files';
import { vocColormap } from '../../src/data/readers/voc';
import { openDataset, SkipBad } from '../../src/data/registry';
import { folderDataset } from './fixtures';
import { palettePng } from '../../src/data/png';

/** Indices whose decoding fails, by trying each one. */
async function failingByDecoding(ds: SegmentationDataset): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ds.length; i++) await ds.get(i).catch(() => out.push(i));
  return out;
}

describe('dataset pre-check', () => {
  it('finds exactly the samples that fail to decode, each message naming its file', async () => {
    const root = await folderDataset(7, 40, {
      1: 'missing-mask', 2: 'corrupt-image', 3: 'size-mismatch', 4: 'truncated-mask', 5: 'label-out-of-range',
    }, { allInTrain: true });
    const ds = openDataset('folder', { root, split: 'train' });
    const bad = await inspectDataset(ds);
    assert.deepEqual(bad.map((b) => b.index), await failingByDecoding(ds));
    assert.deepEqual(bad.map((b) => b.index), [1, 2, 3, 4, 5]);
    const message = Object.fromEntries(bad.map((b) => [b.id, b.message]));
    assert.match(message.s1, /masks\/s1\.png: label map not found/);
    assert.match(message.s2, /images\/s2\.png: corrupt or truncated image/);
    assert.match(message.s3, /masks\/s3\.png: label map is 39x40 but its image .*images\/s3\.png is 40x40/);
    assert.match(message.s4, /masks\/s4\.png: corrupt or truncated label map/);
    assert.match(message.s5, /masks\/s5\.png: label 9 at pixel \(5, 1\) is out of range \(expected 0..2 or 255\)/);
    // Headers only: what needs the pixels (truncated data, label values) is left to check-data and the run.
    assert.deepEqual((await inspectDataset(ds, { full: false })).map((b) => b.index), [1, 2, 3]);
    fs.rmSync(root, { recursive: true });
  });

  it('preflightDataset: a DatasetError naming the first five and counting the rest; nothing for a clean or generated dataset', async () => {
    const root = await folderDataset(8, 40, Object.fromEntries([0, 1, 2, 3, 4, 5, 6].map((i) => [i, 'label-out-of-range'])), { allInTrain: true });
    const ds = openDataset('folder', { root, split: 'train' });
    await assert.rejects(preflightDataset(ds, 'the training set'), (e: Error) => {
      assert.ok(e instanceof DatasetError);
      assert.match(e.message, /^the training set: 7 of 8 sample\(s\) have bad files:/);
      for (let i = 0; i < 5; i++) assert.match(e.message, new RegExp(`masks/s${i}\\.png: label 9`));
      assert.doesNotMatch(e.message, /s5\.png/);
      assert.match(e.message, /\.\.\. and 2 more/);
      assert.match(e.message, /check-data/);
      return true;
    });
    fs.rmSync(root, { recursive: true });
    const clean = await folderDataset(3, 40);
    await preflightDataset(openDataset('folder', { root: clean, split: 'train' }), 'clean');
    fs.rmSync(clean, { recursive: true });
    await preflightDataset(openDataset('builtin', { split: 'train', builtinSize: 2, builtinImageSize: 16 }), 'builtin');
  });

  it('with --skip-bad the bad samples are left out before the run and listed; all bad is still an error', async () => {
    const root = await folderDataset(4, 40, { 1: 'corrupt-image', 2: 'label-out-of-range' }, { allInTrain: true });
    const ds = openDataset('folder', { root, split: 'train', skipBad: true }) as SkipBad;
    await preflightDataset(ds, 'train');
    assert.deepEqual([...ds.skipped.keys()].sort(), [1, 2]);
    // Sample 1 is replaced by the next good one, 3 (2 is bad too).
    assert.deepEqual(await Promise.all([0, 1, 2, 3].map(async (i) => (await ds.get(i)).id)), ['s0', 's3', 's3', 's3']);
    assert.match(ds.report().join('\n'), /sample 1: .*images\/s1\.png: corrupt or truncated image[\s\S]*sample 2: .*label 9/);
    fs.rmSync(root, { recursive: true });
    const allBad = await folderDataset(2, 40, { 0: 'corrupt-image', 1: 'missing-mask' }, { allInTrain: true });
    await assert.rejects(preflightDataset(openDataset('folder', { root: allBad, split: 'train', skipBad: true }), 'train'),
      /train: 2 of 2 sample\(s\) have bad files/);
    fs.rmSync(allBad, { recursive: true });
  });

  it('reports progress for each pass', async () => {
    const root = await folderDataset(5, 40, {}, { allInTrain: true });
    const seen: string[] = [];
    await inspectDataset(openDataset('folder', { root, split: 'train' }), { progressEveryMs: 0, onProgress: (d, n, p) => seen.push(`${p} ${d}/${n}`) });
    assert.deepEqual(seen, [1, 2, 3, 4, 5].map((d) => `headers ${d}/5`).concat([1, 2, 3, 4, 5].map((d) => `decoding ${d}/5`)));
    fs.rmSync(root, { recursive: true });
  });

  it('voc: a name in the split list without its image is found', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-voc-'));
    const base = path.join(root, 'VOCdevkit', 'VOC2012');
    for (const d of ['JPEGImages', 'SegmentationClass', 'ImageSets/Segmentation']) fs.mkdirSync(path.join(base, d), { recursive: true });
    await sharp(Buffer.alloc(8 * 6 * 3, 90), { raw: { width: 8, height: 6, channels: 3 } }).jpeg().toFile(path.join(base, 'JPEGImages', 'a.jpg'));
    for (const n of ['a', 'b']) fs.writeFileSync(path.join(base, 'SegmentationClass', `${n}.png`), palettePng(8, 6, new Array(48).fill(1), vocColormap()));
    fs.writeFileSync(path.join(base, 'ImageSets', 'Segmentation', 'train.txt'), 'a\nb\n');
    const bad = await inspectDataset(openDataset('voc', { root, split: 'train' }));
    assert.deepEqual(bad.map((b) => [b.id, b.message.replace(root, 'ROOT')]), [['b', 'ROOT/VOCdevkit/VOC2012/JPEGImages/b.jpg: image not found']]);
    fs.rmSync(root, { recursive: true });
  });
});
