/**
 * The submission formats of predict (src/eval/submission.ts): a prediction
 * holding every class, written in each format, read back through the
 * project's own readers as a label equals the class map; the same files read
 * by an independent PNG decoder (python) hold what the benchmarks' scripts
 * expect; Cityscapes' trainId -> labelId table against labels.py's values.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readRgb } from '../../src/data/image_io';
import { openDataset } from '../../src/data/registry';
import { ADE20K_CLASSES } from '../../src/data/readers/ade20k';
import { CITYSCAPES_CLASSES, CITYSCAPES_LABEL_IDS, CITYSCAPES_LABELS, CITYSCAPES_PALETTE, cityscapesTrainId } from '../../src/data/readers/cityscapes';
import { VOC_CLASSES } from '../../src/data/readers/voc';
import { checkFormatClasses, predictionFiles, writePrediction } from '../../src/eval/submission';
import { Benchmark, benchmarkFiles, placeAsLabel, writeBenchmarkImages } from '../data/fixtures';
import { pythonMissing, runPython } from './python_png';

/** labels.py: the label id of each train id 0..18 (road 7 ... bicycle 33), written out as an oracle. */
const LABEL_IDS = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33];

/** Each benchmark: its classes, an image name as it ships, and the file its prediction must go to (relative to --out). */
const CASES: { b: Benchmark; classes: readonly string[]; name: string; file: string }[] = [
  { b: 'cityscapes', classes: CITYSCAPES_CLASSES, name: 'aachen_000000_000019', file: 'aachen_000000_000019_labelIds.png' },
  { b: 'voc', classes: VOC_CLASSES, name: '2007_000032', file: 'results/VOC2012/Segmentation/comp5_test_cls/2007_000032.png' },
  { b: 'ade20k', classes: ADE20K_CLASSES, name: 'ADE_val_00000001', file: 'ADE_val_00000001.png' },
];

/** What python's decoder reads in a PNG: colour type, palette, values (H*W), and VOC's devkit colour map (labelcolormap.m). */
const READ = `
import json, sys
ctype, plte, v = read_png(sys.argv[1])
def voc_cmap(n=256):
    out = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        out.append([r, g, b])
    return out
print(json.dumps({'ctype': ctype, 'palette': plte and [list(c) for c in plte], 'values': v.ravel().tolist(), 'shape': list(v.shape), 'voc': voc_cmap()}))`;

describe('predict formats: written, read back as labels', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-submission-'));
  });
  after(() => fs.rmSync(dir, { recursive: true }));

  it("cityscapes: the train id -> label id table is labels.py's, and its names and colours are the reader's classes", () => {
    assert.deepEqual(CITYSCAPES_LABEL_IDS, LABEL_IDS);
    const byId = new Map(CITYSCAPES_LABELS.map((l) => [l.id, l]));
    CITYSCAPES_CLASSES.forEach((name, k) => {
      assert.equal(byId.get(LABEL_IDS[k])!.name, name, `train id ${k}`);
      assert.deepEqual(byId.get(LABEL_IDS[k])!.color, CITYSCAPES_PALETTE[k], `colour of ${name}`);
      assert.equal(cityscapesTrainId(LABEL_IDS[k]), k);
    });
    // Label ids 0..33 each once; every one outside the 19 is ignored (255) by the reader.
    assert.deepEqual(CITYSCAPES_LABELS.map((l) => l.id).filter((id) => id >= 0), Array.from({ length: 34 }, (_, i) => i));
    for (let id = 0; id <= 33; id++) if (!LABEL_IDS.includes(id)) assert.equal(cityscapesTrainId(id), 255, `label id ${id}`);
  });

  for (const { b, classes, name, file } of CASES) {
    it(`${b}: a prediction of all ${classes.length} classes goes to ${file}, reads back through the ${b} reader exactly, and holds what the benchmark reads`, async (t) => {
      const root = path.join(dir, b);
      const [W, H] = [15, 11]; // 165 pixels: every class at least once
      const [image] = await writeBenchmarkImages(b, root, 'val', [name], W, H);
      const out = path.join(dir, `${b}-out`);
      const [files] = predictionFiles(b, out, [image]);
      assert.deepEqual(files, [path.join(out, file)]);
      const pred = Int32Array.from({ length: W * H }, (_, p) => (p * 7) % classes.length);
      await writePrediction(b, files, { image: await readRgb(image), classes: pred, palette: [], opacity: 0 });
      assert.deepEqual(fs.readdirSync(out, { recursive: true }).filter((f) => String(f).endsWith('.png')), [file]);

      placeAsLabel(files[0], benchmarkFiles(b, root, 'val', name).label);
      const s = await openDataset(b, { root, split: 'val' }).get(0);
      assert.deepEqual([...s.label], [...pred]);

      const why = pythonMissing();
      if (why) return t.skip(why);
      const r = runPython(READ, files[0]) as { ctype: number; palette: number[][] | null; values: number[]; shape: number[]; voc: number[][] };
      assert.deepEqual(r.shape, [H, W]);
      if (b === 'voc') {
        // An indexed PNG (colour type 3) with VOC's palette: the server reads class indices, not colours.
        assert.equal(r.ctype, 3);
        assert.deepEqual(r.palette, r.voc);
        assert.deepEqual(r.values, [...pred]);
      } else {
        assert.equal(r.ctype, 0);
        assert.deepEqual(r.values, [...pred].map((k) => (b === 'cityscapes' ? LABEL_IDS[k] : k + 1)));
      }
    });
  }

  it('refuses, before any work, names a format cannot carry and two images whose predictions would share a file', () => {
    assert.throws(() => predictionFiles('cityscapes', dir, ['/x/photo.png']),
      /\/x\/photo\.png: --format cityscapes needs Cityscapes file names, \{city\}_\{seq\}_\{frame\}_leftImg8bit\.png/);
    assert.throws(() => predictionFiles('colours', dir, ['/a/x.png', '/a/x.jpg']), /\/a\/x\.jpg: its prediction .*x_labels\.png would replace that of \/a\/x\.png/);
    assert.throws(() => predictionFiles('cityscapes', dir, ['/a/bonn_000001_000002_leftImg8bit.png', '/b/bonn_000001_000002.jpg']),
      /bonn_000001_000002\.jpg: its prediction .*bonn_000001_000002_labelIds\.png would replace/);
    assert.deepEqual(predictionFiles('colours', dir, ['/a/x.png', '/a/y.png']).map((f) => f.map((p) => path.basename(p))),
      [['x_labels.png', 'x_overlay.png'], ['y_labels.png', 'y_overlay.png']]);
  });

  it("refuses a model whose classes are not the benchmark's, in its order", () => {
    assert.throws(() => checkFormatClasses('voc', CITYSCAPES_CLASSES, 'm.safetensors'),
      /--format voc: the model m\.safetensors predicts 19 classes, not PASCAL VOC's 21 classes/);
    const swapped = [CITYSCAPES_CLASSES[1], CITYSCAPES_CLASSES[0], ...CITYSCAPES_CLASSES.slice(2)];
    assert.throws(() => checkFormatClasses('cityscapes', swapped, 'm'), /has class 0 'sidewalk' where the benchmark has 'road'/);
    checkFormatClasses('cityscapes', CITYSCAPES_CLASSES, 'm');
    checkFormatClasses('ade20k', ADE20K_CLASSES, 'm');
    checkFormatClasses('colours', ['a', 'b'], 'm');
  });
});
