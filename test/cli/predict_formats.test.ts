/**
 * `predict --dataset B --data-root DIR --split test --format B` as a new user
 * runs it for a test-server submission: small Cityscapes, VOC and ADE20K
 * splits in their official layouts; the files written, put where each
 * benchmark keeps its labels, read back through the project's readers equal
 * the class maps predicted in this process (same scales and flip); on
 * Cityscapes val, evalPixelLevelSemanticLabeling.py's file lookup and IoU
 * (in python) on the written label ids equal `eval --json`. Bad flags exit 2;
 * a failing disk leaves complete files only.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import sharp from 'sharp';
import * as T from '../../src/engine';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { SegmentationDataset } from '../../src/data/dataset';
import { openDataset } from '../../src/data/registry';
import { ADE20K_CLASSES } from '../../src/data/readers/ade20k';
import { CITYSCAPES_CLASSES, CITYSCAPES_PALETTE } from '../../src/data/readers/cityscapes';
import { VOC_CLASSES, vocColormap } from '../../src/data/readers/voc';
import { predictCommand } from '../../src/cli/predict';
import { predictSample } from '../../src/eval/evaluate';
import { buildModel } from '../../src/model/presets';
import { loadModel, saveModel } from '../../src/model/saved';
import { WriteError } from '../../src/util/errors';
import { injectWriteFault } from '../../src/util/files';
import { Benchmark, benchmarkFiles, placeAsLabel, writeBenchmarkImages, writeRgb } from '../data/fixtures';
import { pythonMissing, runPython } from '../eval/python_png';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const INFERENCE = { scales: [0.75, 1], flip: true };
const INFERENCE_FLAGS = ['--scales', '0.75,1', '--flip', '--threads', '1'];
const [W, H] = [48, 40];

/** Each benchmark's test split as it ships (names), and where its predictions go (relative to --out). */
const SPLITS: { b: Benchmark; names: string[]; file: (name: string) => string }[] = [
  { b: 'cityscapes', names: ['berlin_000000_000019', 'bonn_000004_000019'], file: (n) => `${n}_labelIds.png` },
  { b: 'voc', names: ['2008_000001', '2008_000006'], file: (n) => `results/VOC2012/Segmentation/comp5_test_cls/${n}.png` },
  { b: 'ade20k', names: ['ADE_test_00000001', 'ADE_test_00000002'], file: (n) => `${n}.png` },
];
const CLASSES = { cityscapes: [CITYSCAPES_CLASSES, CITYSCAPES_PALETTE], voc: [VOC_CLASSES, vocColormap(21)], ade20k: [ADE20K_CLASSES, vocColormap(151).slice(1)] } as const;

/** Every file under dir, relative, sorted. */
const filesUnder = (dir: string) => (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();

/**
 * cityscapesScripts' evalPixelLevelSemanticLabeling.py on gtFine/val and a
 * results folder: each ground truth's prediction found by os.walk and
 * fnmatch '{city}_{seq}_{frame}*.png' (exactly one), both read as label ids,
 * and the IoU of each of the 19 evaluated labels as its getIouScoreForLabel
 * computes it (false positives only where the ground truth is evaluated).
 */
const CITYSCAPES_EVAL = `
import fnmatch, glob, json, os, sys
import numpy as np
gt_root, results = sys.argv[1], sys.argv[2]
evaluated = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33]
walk = list(os.walk(results))
conf = np.zeros((256, 256), dtype=np.int64)
for gt in sorted(glob.glob(os.path.join(gt_root, '*', '*_gtFine_labelIds.png'))):
    city, seq, frame = os.path.basename(gt).split('_')[:3]
    found = [os.path.join(r, f) for r, _, names in walk for f in fnmatch.filter(names, '%s_%s_%s*.png' % (city, seq, frame))]
    assert len(found) == 1, '%s: %d predictions found' % (gt, len(found))
    g, p = read_png(gt)[2], read_png(found[0])[2]
    assert g.shape == p.shape, gt
    np.add.at(conf, (g.ravel(), p.ravel()), 1)
iou = {}
for l in evaluated:
    tp = conf[l, l]
    fp = conf[[k for k in evaluated if k != l], l].sum()
    fn = conf[l, :].sum() - tp
    iou[l] = None if tp + fp + fn == 0 else float(tp) / (tp + fp + fn)
print(json.dumps([iou[l] for l in evaluated]))`;

describe('predict: benchmark splits in submission formats', () => {
  let dir = '';
  const model: Partial<Record<Benchmark, string>> = {};
  const root = (b: Benchmark) => path.join(dir, b);

  before(async () => {
    T.setNumThreads(1); // as the runs below (--threads 1): the same sums, the same argmax
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-predict-formats-'));
    for (const { b, names } of SPLITS) {
      await writeBenchmarkImages(b, root(b), 'test', names, W, H);
      const [classNames, palette] = CLASSES[b];
      const m = buildModel({ genotype: AUTO_DEEPLAB_GENOTYPE, filterMultiplier: 2, numClasses: classNames.length });
      model[b] = path.join(dir, `${b}.safetensors`);
      saveModel(model[b]!, m, { classNames, palette } as unknown as SegmentationDataset);
      m.weights.dispose();
    }
    // Cityscapes val with ground truth: label ids of evaluated and ignored labels (0, 4, 9) alike.
    const val = ['frankfurt_000000_000294', 'lindau_000000_000019'];
    await writeBenchmarkImages('cityscapes', root('cityscapes'), 'val', val, W, H);
    for (const [i, n] of val.entries()) {
      const ids = Buffer.from(Array.from({ length: W * H }, (_, p) => [7, 8, 11, 21, 23, 26, 0, 4, 9, 24][(p + i * 3 + Math.floor(p / 11)) % 10]));
      const label = benchmarkFiles('cityscapes', root('cityscapes'), 'val', n).label;
      fs.mkdirSync(path.dirname(label), { recursive: true });
      await sharp(ids, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toFile(label);
    }
  });
  after(() => fs.rmSync(dir, { recursive: true }));

  for (const { b, names, file } of SPLITS) {
    it(`${b}: --split test --format ${b} writes ${file('NAME')} per image, read back as labels equal to the predicted classes`, async () => {
      const out = path.join(dir, `${b}-submission`);
      const r = run('predict', '--checkpoint', model[b]!, '--dataset', b, '--data-root', root(b), '--split', 'test', '--format', b, '--out', out, ...INFERENCE_FLAGS);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(filesUnder(out), names.map(file).sort());
      for (const n of names) placeAsLabel(path.join(out, file(n)), benchmarkFiles(b, root(b), 'test', n).label);
      const ds = openDataset(b, { root: root(b), split: 'test' });
      const { model: m } = loadModel(model[b]!);
      try {
        for (let i = 0; i < ds.length; i++) {
          const s = await ds.get(i);
          assert.deepEqual([...s.label], [...predictSample((x) => m.forward(x, false), s, INFERENCE)], s.id);
        }
      } finally {
        m.weights.dispose();
      }
    });
  }

  it("cityscapes val: the official script's lookup and IoU on the written label ids equal eval --json", async (t) => {
    const why = pythonMissing();
    if (why) return t.skip(why);
    const out = path.join(dir, 'cityscapes-val');
    const common = ['--checkpoint', model.cityscapes!, '--dataset', 'cityscapes', '--data-root', root('cityscapes'), '--split', 'val', ...INFERENCE_FLAGS];
    const p = run('predict', ...common, '--format', 'cityscapes', '--out', out);
    assert.equal(p.status, 0, p.stderr);
    const e = run('eval', ...common, '--json');
    assert.equal(e.status, 0, e.stderr);
    const perClass = JSON.parse(e.stdout).perClassIoU as Record<string, number | null>;
    const official = runPython(CITYSCAPES_EVAL, path.join(root('cityscapes'), 'gtFine', 'val'), out) as (number | null)[];
    CITYSCAPES_CLASSES.forEach((c, k) => {
      if (official[k] === null) assert.equal(perClass[c], null, c);
      else assert.ok(Math.abs(official[k]! - perClass[c]!) < 1e-12, `${c}: official ${official[k]}, eval ${perClass[c]}`);
    });
  });

  it('a failing disk stops a submission with a WriteError naming the file; the files before it are complete, no partial file is left', async () => {
    const out = path.join(dir, 'voc-fault');
    let writes = 0;
    injectWriteFault((file) => {
      if (file.startsWith(out) && ++writes === 2) throw new Error('ENOSPC: no space left on device');
    });
    try {
      await assert.rejects(predictCommand().parseAsync(['--checkpoint', model.voc!, '--dataset', 'voc', '--data-root', root('voc'), '--split', 'test',
        '--format', 'voc', '--out', out, '--threads', '1'], { from: 'user' }),
      (e: Error) => e instanceof WriteError && /comp5_test_cls\/2008_000006\.png: could not be written \(ENOSPC/.test(e.message));
    } finally {
      injectWriteFault(null);
    }
    assert.deepEqual(filesUnder(out), ['results/VOC2012/Segmentation/comp5_test_cls/2008_000001.png']);
    await sharp(path.join(out, filesUnder(out)[0]), { failOn: 'truncated' }).raw().toBuffer();
  });

  it('the default format with --dataset is still colours and overlays; bad flags exit 2 naming the flag', async () => {
    const out = path.join(dir, 'colours');
    const ok = run('predict', '--checkpoint', model.voc!, '--dataset', 'voc', '--data-root', root('voc'), '--split', 'test', '--out', out, '--threads', '1');
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(filesUnder(out), ['2008_000001_labels.png', '2008_000001_overlay.png', '2008_000006_labels.png', '2008_000006_overlay.png']);
    await writeRgb(path.join(dir, 'photos', 'photo.png'), W, H);
    const cs = ['--checkpoint', model.cityscapes!, '--out', path.join(dir, 'bad')];
    const cases: [RegExp, string[]][] = [
      [/--format <name>' argument 'png' is invalid\. Allowed choices are colours, cityscapes, voc, ade20k/, [...cs, '--input', dir, '--format', 'png']],
      [/--dataset <name>' argument 'folder' is invalid\. Allowed choices are cityscapes, voc, ade20k/, [...cs, '--dataset', 'folder']],
      [/predict: give either --input \(an image or a folder\) or --dataset/, cs],
      [/predict: give only one of --input/, [...cs, '--input', dir, '--dataset', 'voc']],
      [/--data-root: --dataset cityscapes needs the folder it was unpacked to/, [...cs, '--dataset', 'cityscapes']],
      [/--split: goes with --dataset, not with --input/, [...cs, '--input', dir, '--split', 'test']],
      [/--dataset cityscapes --data-root .* --split tset: .*leftImg8bit\/tset: folder not found/, [...cs, '--dataset', 'cityscapes', '--data-root', root('cityscapes'), '--split', 'tset']],
      [/--dataset voc --data-root .* --split val: .*val\.txt: split list not found/, [...cs, '--dataset', 'voc', '--data-root', root('voc')]],
      [/photo\.png: --format cityscapes needs Cityscapes file names/, [...cs, '--input', path.join(dir, 'photos'), '--format', 'cityscapes']],
      [/--format voc: the model .*cityscapes\.safetensors predicts 19 classes, not PASCAL VOC's 21 classes/, [...cs, '--dataset', 'voc', '--data-root', root('voc'), '--split', 'test', '--format', 'voc']],
    ];
    for (const [re, args] of cases) {
      const r = run('predict', ...args);
      assert.equal(r.status, 2, `${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
      assert.match(r.stderr, re);
    }
    assert.ok(!fs.existsSync(path.join(dir, 'bad')), 'a refused run writes nothing');
  });
});
