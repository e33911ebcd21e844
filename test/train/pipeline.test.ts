/**
 * End to end from the command line: search writes a genotype, train builds
 * exactly that genotype, eval reports mIoU above a floor; checkpoints resume.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { loadModel } from '../../src/model/saved';
import * as T from '../../src/engine';
import sharp from 'sharp';
import { generateScene, BuiltinScenes } from '../../src/data/builtin';

/** predict on PNG files: outputs of the input's size in palette colours; a corrupt file is named. */
async function checkPredict(dir: string, model: string): Promise<void> {
  const input = path.join(dir, 'images');
  fs.mkdirSync(input);
  for (const i of [0, 1]) {
    const s = generateScene(9, i, 50 + 10 * i);
    await sharp(Buffer.from(s.image), { raw: { width: s.width, height: s.height, channels: 3 } }).png().toFile(path.join(input, `img${i}.png`));
  }
  const out = path.join(dir, 'pred');
  run('predict', '--checkpoint', model, '--input', input, '--out', out);
  const palette = new BuiltinScenes({ size: 1, imageSize: 16, seed: 0 }).palette.map((c) => c.join(','));
  for (const i of [0, 1]) {
    const { data, info } = await sharp(path.join(out, `img${i}_labels.png`)).raw().toBuffer({ resolveWithObject: true });
    assert.deepEqual([info.width, info.height], [50 + 10 * i, 50 + 10 * i]);
    for (let p = 0; p < info.width * info.height; p++) assert.ok(palette.includes(`${data[3 * p]},${data[3 * p + 1]},${data[3 * p + 2]}`));
    assert.ok(fs.existsSync(path.join(out, `img${i}_overlay.png`)));
  }
  fs.writeFileSync(path.join(input, 'broken.png'), 'not a png');
  const bad = spawnSync(process.execPath, [CLI, 'predict', '--checkpoint', model, '--input', input, '--out', out], { encoding: 'utf8' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /broken.png: cannot be decoded as an image/);
}

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `autodeeplab ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
};

describe('search -> train -> eval', () => {
  it('train builds exactly the searched genotype, eval clears the floor, predict writes label maps', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-e2e-'));
    const s = path.join(dir, 'search');
    run('search', '--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '4', '--blocks', '3',
      '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '2', '--out', s);
    const genotypeFile = path.join(s, 'genotype.json');
    const genotype = JSON.parse(fs.readFileSync(genotypeFile, 'utf8'));
    const t = path.join(dir, 'train');
    const common = ['--genotype', genotypeFile, '--filter-multiplier', '4', '--crop', '48', '--batch-size', '8', '--iterations', '150',
      '--builtin-size', '64', '--builtin-image-size', '64', '--bn-momentum', '0.1', '--threads', '2', '--out', t];
    run('train', ...common, '--max-iterations', '60');
    run('train', ...common, '--resume');
    const ck = loadCheckpoint(path.join(t, 'checkpoint.safetensors'));
    const model = ck.meta.model as { genotype: { cell: unknown; path: unknown } };
    assert.deepEqual(model.genotype.cell, genotype.cell);
    assert.deepEqual(model.genotype.path, genotype.path);
    assert.equal(ck.meta.iteration, 150);
    T.dispose(Object.values(ck.tensors));
    // The built cells hold exactly the genotype's ops.
    const { model: built } = loadModel(path.join(t, 'model.safetensors'));
    const names = built.weights.namedParameters().map(([n]) => n);
    genotype.cell.blocks.forEach((block: { op: string }[], i: number) => block.forEach((br, j) => {
      if (br.op === 'skip' || br.op.includes('pool')) return; // weight-free here
      const key = br.op.startsWith('sep') ? `sep${br.op.slice(3)}` : br.op;
      assert.ok(names.some((n) => n.startsWith(`cells.0.block${i}.${j}.${key}`)), `cells.0.block${i}.${j} is not ${br.op}`);
    }));
    assert.equal(names.filter((n) => /^cells\.\d+\.pre0\./.test(n)).length / 3, genotype.path.length);
    built.weights.dispose();
    const out = run('eval', '--checkpoint', path.join(t, 'model.safetensors'), '--builtin-size', '12', '--builtin-image-size', '64', '--json');
    const r = JSON.parse(out);
    // Floor: clearly above predicting the most frequent class everywhere (the oracle, from the same confusion matrix).
    const rows = (r.confusionMatrix as number[][]).map((row) => row.reduce((a, b) => a + b, 0));
    const total = rows.reduce((a, b) => a + b, 0);
    const majority = Math.max(...rows) / total; // its pixel accuracy, and its IoU on that class (0 on the others)
    const present = rows.filter((n) => n > 0).length;
    assert.ok(r.pixelAccuracy > majority + 0.05, `pixel accuracy ${r.pixelAccuracy} (majority class alone: ${majority})`);
    assert.ok(r.mIoU > majority / present + 0.08, `mIoU ${r.mIoU} (majority class alone: ${majority / present})`);
    assert.equal(r.confusionMatrix.length, 6);
    const ms = JSON.parse(run('eval', '--checkpoint', path.join(t, 'model.safetensors'), '--builtin-size', '4', '--builtin-image-size', '64',
      '--scales', '0.75,1,1.25', '--flip', '--json'));
    assert.ok(ms.mIoU > 0.2, `multi-scale mIoU ${ms.mIoU}`);
    await checkPredict(dir, path.join(t, 'model.safetensors'));
    fs.rmSync(dir, { recursive: true });
  });

  it('cost prints parameters and Multi-Adds as JSON', () => {
    const r = JSON.parse(run('cost', '--arch', 'autodeeplab-s', '--size', '1024x2048', '--json'));
    assert.equal(r.params, 10147427);
    assert.ok(Math.abs(r.multiAdds / 315.14e9 - 1) < 0.01);
    for (const p of ['stem', 'cells', 'aspp', 'decoder']) assert.ok(r.parts[p].params > 0);
  });
});
