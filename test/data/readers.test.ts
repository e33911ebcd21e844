/**
 * Each reader on fixtures written here in the exact official layout, and every
 * bad input with the message it produces.
 */
import { describe, it, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import { openDataset, SkipBad, splitImages } from '../../src/data/registry';
import { vocColormap } from '../../src/data/readers/voc';
import { DatasetError } from '../../src/data/readers/files';
import { palettePng } from '../../src/data/png';

const W = 8;
const H = 6;
let root: string;

function file(...parts: string[]): string {
  const p = path.join(root, ...parts);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  return p;
}
async function rgb(p: string, w = W, h = H): Promise<void> {
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  await sharp(data, { raw: { width: w, height: h, channels: 3 } }).toFile(p);
}
async function grey(p: string, values: number[], w = W, h = H): Promise<void> {
  await sharp(Buffer.from(values), { raw: { width: w, height: h, channels: 1 } }).png().toFile(p);
}
const fill = (pattern: number[]) => Array.from({ length: W * H }, (_, i) => pattern[i % pattern.length]);

describe('dataset readers (official layouts)', () => {
  before(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-data-'));
  });
  after(() => fs.rmSync(root, { recursive: true }));

  it('cityscapes: labelIds map to the 19 train ids, everything else to 255', async () => {
    const r = path.join(root, 'cs');
    const id = 'aachen_000000_000019';
    await rgb(file('cs', 'leftImg8bit', 'train', 'aachen', `${id}_leftImg8bit.png`));
    await grey(file('cs', 'gtFine', 'train', 'aachen', `${id}_gtFine_labelIds.png`), fill([7, 8, 26, 0, 33, 24, 1, 31]));
    const ds = openDataset('cityscapes', { root: r, split: 'train' });
    assert.equal(ds.length, 1);
    assert.equal(ds.numClasses, 19);
    const s = await ds.get(0);
    assert.equal(s.id, `aachen/${id}`);
    assert.deepEqual([...s.label.slice(0, 8)], [0, 1, 13, 255, 18, 11, 255, 16]);
    assert.equal(s.image.length, W * H * 3);
    await grey(file('cs', 'gtFine', 'train', 'aachen', `${id}_gtFine_labelIds.png`), fill([7, 40]));
    await assert.rejects(ds.get(0), /gtFine_labelIds.png: label 40 at pixel \(1, 0\) is out of range \(expected 0..18 or 255\)/);
    // Coarse annotations: gtCoarse/{split}/{city}/*_gtCoarse_labelIds.png.
    await grey(file('cs', 'gtCoarse', 'train', 'aachen', `${id}_gtCoarse_labelIds.png`), fill([21, 23]));
    const coarse = openDataset('cityscapes', { root: r, split: 'train', coarse: true });
    assert.deepEqual([...(await coarse.get(0)).label.slice(0, 2)], [8, 10]);
  });

  it('voc: palette PNGs in SegmentationClass (255 border ignored), split lists, and SegmentationClassAug', async () => {
    const r = path.join(root, 'voc');
    const base = ['voc', 'VOCdevkit', 'VOC2012'];
    await sharp(Buffer.alloc(W * H * 3, 128), { raw: { width: W, height: H, channels: 3 } }).jpeg().toFile(file(...base, 'JPEGImages', '2007_000032.jpg'));
    const idx = fill([0, 1, 15, 255, 20]);
    fs.writeFileSync(file(...base, 'SegmentationClass', '2007_000032.png'), palettePng(W, H, idx, vocColormap()));
    fs.writeFileSync(file(...base, 'ImageSets', 'Segmentation', 'train.txt'), '2007_000032\n');
    const ds = openDataset('voc', { root: r, split: 'train' });
    assert.equal(ds.numClasses, 21);
    assert.deepEqual([...(await ds.get(0)).label], idx);
    await grey(file(...base, 'SegmentationClassAug', '2007_000032.png'), fill([3, 255, 7]));
    fs.writeFileSync(file(...base, 'ImageSets', 'Segmentation', 'train_aug.txt'), '/JPEGImages/2007_000032.jpg /SegmentationClassAug/2007_000032.png\n');
    const aug = openDataset('voc', { root: r, split: 'train_aug' });
    assert.deepEqual([...(await aug.get(0)).label.slice(0, 3)], [3, 255, 7]);
    // A colour outside VOC's palette is named with its pixel.
    fs.writeFileSync(file(...base, 'SegmentationClass', '2007_000032.png'), palettePng(W, H, fill([0, 1]), [[0, 0, 0], [1, 2, 3]]));
    await assert.rejects(ds.get(0), /2007_000032.png: colour \(1, 2, 3\) at pixel \(1, 0\) is not in the dataset's palette/);
    assert.throws(() => openDataset('voc', { root: r, split: 'test' }), /test.txt: split list not found/);
  });

  it('ade20k: 0 is ignored and 1..150 shift to 0..149', async () => {
    const r = path.join(root, 'ade');
    const base = ['ade', 'ADEChallengeData2016'];
    await sharp(Buffer.alloc(W * H * 3, 60), { raw: { width: W, height: H, channels: 3 } }).jpeg().toFile(file(...base, 'images', 'validation', 'ADE_val_00000001.jpg'));
    await grey(file(...base, 'annotations', 'validation', 'ADE_val_00000001.png'), fill([0, 1, 150, 42]));
    const ds = openDataset('ade20k', { root: r, split: 'val' });
    assert.equal(ds.numClasses, 150);
    assert.equal(ds.classNames.length, 150);
    assert.deepEqual([ds.classNames[0], ds.classNames[2], ds.classNames[149]], ['wall', 'sky', 'flag']);
    assert.deepEqual([...(await ds.get(0)).label.slice(0, 4)], [255, 0, 149, 41]);
    await grey(file(...base, 'annotations', 'validation', 'ADE_val_00000001.png'), fill([0, 151]));
    await assert.rejects(ds.get(0), /ADE_val_00000001.png: label 151 at pixel \(1, 0\) is out of range \(expected 0..149 or 255\)/);
  });

  it("splitImages: a split's images without labels (test splits have none), the same files and ids as the readers", async () => {
    const strip = ({ id, image }: { id: string; image: string }) => ({ id, image });
    for (const [name, dir, split] of [['cityscapes', 'cs', 'train'], ['voc', 'voc', 'train'], ['ade20k', 'ade', 'val']] as const) {
      const ds = openDataset(name, { root: path.join(root, dir), split });
      assert.deepEqual(splitImages(name, path.join(root, dir), split), Array.from({ length: ds.length }, (_, i) => strip(ds.files!(i)!)), name);
    }
    const id = 'berlin_000000_000019';
    await rgb(file('cs', 'leftImg8bit', 'test', 'berlin', `${id}_leftImg8bit.png`));
    assert.deepEqual(splitImages('cityscapes', path.join(root, 'cs'), 'test'), [{ id: `berlin/${id}`, image: path.join(root, 'cs', 'leftImg8bit', 'test', 'berlin', `${id}_leftImg8bit.png`) }]);
    assert.throws(() => openDataset('cityscapes', { root: path.join(root, 'cs'), split: 'test' }), /gtFine\/test: folder not found/);
    fs.writeFileSync(file('voc', 'VOCdevkit', 'VOC2012', 'ImageSets', 'Segmentation', 'test.txt'), '2008_000001\n');
    assert.deepEqual(splitImages('voc', path.join(root, 'voc'), 'test'), [{ id: '2008_000001', image: path.join(root, 'voc', 'VOCdevkit', 'VOC2012', 'JPEGImages', '2008_000001.jpg') }]);
    assert.throws(() => splitImages('ade20k', path.join(root, 'ade'), 'test'), /ade\/release_test\/testing: folder not found \(expected release_test\/testing\/\*\.jpg/);
    await rgb(file('ade', 'release_test', 'testing', 'ADE_test_00000001.jpg'));
    assert.deepEqual(splitImages('ade20k', path.join(root, 'ade'), 'test'), [{ id: 'ADE_test_00000001', image: path.join(root, 'ade', 'release_test', 'testing', 'ADE_test_00000001.jpg') }]);
  });

  it('folder: images/, masks/, classes.json with its ignore value, optional split lists', async () => {
    const r = path.join(root, 'own');
    await rgb(file('own', 'images', 'a.png'));
    await rgb(file('own', 'images', 'b.jpg'));
    await grey(file('own', 'masks', 'a.png'), fill([0, 1, 2, 9]));
    await grey(file('own', 'masks', 'b.png'), fill([2]));
    fs.writeFileSync(file('own', 'classes.json'), JSON.stringify({ names: ['bg', 'cat', 'dog'], colors: [[0, 0, 0], [255, 0, 0], [0, 255, 0]], ignore: 9 }));
    // No lists: one image held out for val, the other in train.
    const ids = async (split: string) => {
      const d = openDataset('folder', { root: r, split });
      return Promise.all(Array.from({ length: d.length }, async (_, i) => (await d.get(i)).id));
    };
    const [train, val] = [await ids('train'), await ids('val')];
    assert.deepEqual([train.length, val.length], [1, 1]);
    assert.deepEqual([...train, ...val].sort(), ['a', 'b']);
    fs.writeFileSync(file('own', 'train.txt'), 'a\nb\n');
    const ds = openDataset('folder', { root: r, split: 'train' });
    assert.deepEqual(ds.classNames, ['bg', 'cat', 'dog']);
    assert.equal(ds.length, 2);
    assert.deepEqual([...(await ds.get(0)).label.slice(0, 4)], [0, 1, 2, 255]);
    fs.rmSync(file('own', 'train.txt'));
    fs.writeFileSync(file('own', 'val.txt'), 'b\n');
    assert.deepEqual([await ids('val'), await ids('train')], [['b'], ['a']]); // train: the images val.txt does not name
    assert.throws(() => openDataset('folder', { root: r, split: 'trian' }), (e: Error) => e instanceof DatasetError &&
      /--split: no split 'trian' in .*own \(expected trian.txt; without split lists the splits are train and val\)/.test(e.message));
    fs.writeFileSync(file('own', 'test.txt'), 'a\n');
    assert.equal(openDataset('folder', { root: r, split: 'test' }).length, 1);
    fs.writeFileSync(file('own', 'classes.json'), JSON.stringify({ names: ['only'] }));
    assert.throws(() => openDataset('folder', { root: r, split: 'train' }), /classes.json: field 'names' must list at least two class names/);
    const refused = (classes: object, message: RegExp) => {
      fs.writeFileSync(file('own', 'classes.json'), JSON.stringify(classes));
      assert.throws(() => openDataset('folder', { root: r, split: 'train' }), (e: Error) => e instanceof DatasetError && message.test(e.message));
    };
    refused({ names: ['bg', 'cat', 'dog'], ignore: 1 }, /classes.json: field 'ignore' \(1\) is a class id \(classes are 0..2\); use a value >= 3/);
    refused({ names: Array.from({ length: 300 }, (_, k) => `c${k}`) }, /classes.json: 300 class names, but 8-bit masks hold at most 255 classes/);
    refused({ names: ['bg', 'cat', 'bg'] }, /classes.json: class name 'bg' appears twice/);
    refused({ names: ['bg', 'cat'], colors: [[0, 0, 0], [255, 0, 300]] }, /classes.json: colors\[1\] must be \[r, g, b\] with integers 0..255, got \[255,0,300\]/);
  });

  it('bad inputs: missing folders, corrupt and truncated images, size mismatches, empty splits; --skip-bad reports them', async () => {
    assert.throws(() => openDataset('cityscapes', { root: path.join(root, 'nope'), split: 'train' }), /nope\/leftImg8bit\/train: folder not found \(expected Cityscapes' leftImg8bit/);
    assert.throws(() => openDataset('voc', { split: 'train' }), /--data-root: dataset 'voc' needs the folder/);
    const r = path.join(root, 'bad');
    await rgb(file('bad', 'images', 'good.png'));
    await grey(file('bad', 'masks', 'good.png'), fill([1]));
    fs.writeFileSync(file('bad', 'images', 'corrupt.jpg'), 'this is not a jpeg');
    await grey(file('bad', 'masks', 'corrupt.png'), fill([1]));
    await rgb(file('bad', 'images', 'small.png'));
    await grey(file('bad', 'masks', 'small.png'), Array(4 * 4).fill(1), 4, 4);
    await rgb(file('bad', 'images', 'truncated.png'), 64, 64);
    const full = fs.readFileSync(path.join(r, 'images', 'truncated.png'));
    fs.writeFileSync(path.join(r, 'images', 'truncated.png'), full.subarray(0, Math.floor(full.length / 2)));
    await grey(file('bad', 'masks', 'truncated.png'), Array(64 * 64).fill(1), 64, 64);
    fs.writeFileSync(file('bad', 'classes.json'), JSON.stringify({ names: ['a', 'b'] }));
    fs.writeFileSync(file('bad', 'train.txt'), 'corrupt\ngood\nsmall\ntruncated\n');
    const ds = openDataset('folder', { root: r, split: 'train' });
    const names = ['corrupt', 'good', 'small', 'truncated'];
    await assert.rejects(ds.get(names.indexOf('corrupt')), /corrupt.jpg: corrupt or truncated image/);
    await assert.rejects(ds.get(names.indexOf('small')), /small.png: label map is 4x4 but its image .*small.png is 8x6/);
    await assert.rejects(ds.get(names.indexOf('truncated')), /truncated.png: corrupt or truncated image/);
    const skip = openDataset('folder', { root: r, split: 'train', skipBad: true }) as SkipBad;
    for (let i = 0; i < 4; i++) assert.equal((await skip.get(i)).id, 'good');
    const report = skip.report().join('\n');
    for (const n of ['corrupt', 'small', 'truncated']) assert.match(report, new RegExp(`${n}\\.(jpg|png)`));
    fs.mkdirSync(path.join(root, 'empty', 'images'), { recursive: true });
    fs.mkdirSync(path.join(root, 'empty', 'masks'), { recursive: true });
    fs.writeFileSync(path.join(root, 'empty', 'classes.json'), JSON.stringify({ names: ['a', 'b'] }));
    assert.throws(() => openDataset('folder', { root: path.join(root, 'empty'), split: 'train' }), /images: empty split 'train'/);
  });
});
