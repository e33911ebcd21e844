/** The exported ONNX graph, run by onnxruntime-node, matches the engine on random inputs. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as T from '../../src/engine';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { modelConfig } from '../../src/model/presets';
import { AutoDeepLab } from '../../src/model/network';
import { BuiltinScenes } from '../../src/data/builtin';
import { saveModel } from '../../src/model/saved';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

// A cell with every op, so that every lowering is exercised.
const ALL_OPS_CELL = { blocks: [
  [{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'sep5x5' }],
  [{ input: 'prevPrev', op: 'atrous3x3' }, { input: 'prev', op: 'atrous5x5' }],
  [{ input: 'block0', op: 'avgpool3x3' }, { input: 'block1', op: 'maxpool3x3' }],
  [{ input: 'prev', op: 'skip' }, { input: 'block2', op: 'sep3x3' }],
] };
const OPS = ALL_OPS_CELL.blocks.flat().map((br) => br.op);
// The released path (strides up and down); one cell for all layers, or (alpha per layer) a cell per layer, its ops rotated by the layer.
const GENOTYPES = {
  'one cell': { version: 1, cell: ALL_OPS_CELL, path: AUTO_DEEPLAB_GENOTYPE.path },
  'a cell per layer': { version: 1, path: AUTO_DEEPLAB_GENOTYPE.path, cells: AUTO_DEEPLAB_GENOTYPE.path.map((_, l) => ({
    blocks: ALL_OPS_CELL.blocks.map((b, i) => b.map((br, j) => ({ input: br.input, op: OPS[(2 * i + j + l) % OPS.length] }))),
  })) },
};

describe('ONNX export', () => {
  for (const [what, g] of Object.entries(GENOTYPES)) it(`onnxruntime-node reproduces the engine within 1e-4 on random inputs (every op of the cell included; ${what})`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-onnx-'));
    T.manualSeed(0);
    const genotype = g as never;
    const model = new AutoDeepLab(modelConfig({ genotype, filterMultiplier: 4, numClasses: 6, bn: { momentum: 0.5, eps: 1e-3 } }));
    // Non-trivial running statistics: a few training-mode passes.
    T.noGrad(() => { for (let i = 0; i < 3; i++) T.tidy(() => model.forward(T.randn([2, 3, 65, 65]), true)); });
    const file = path.join(dir, 'model.safetensors');
    saveModel(file, model, new BuiltinScenes({ size: 1, imageSize: 16, seed: 0 }));
    const onnxFile = path.join(dir, 'model.onnx');
    const r = spawnSync(process.execPath, [CLI, 'export', '--checkpoint', file, '--format', 'onnx', '--size', '65x81', '--out', onnxFile], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const session = await ort.InferenceSession.create(onnxFile);
    for (const seed of [1, 2]) {
      T.manualSeed(seed);
      const x = T.randn([1, 3, 65, 81]);
      const ours = T.noGrad(() => T.tidy(() => model.forward(x, false).toArray()));
      const out = await session.run({ input: new ort.Tensor('float32', x.data() as Float32Array, [1, 3, 65, 81]) });
      const theirs = out[session.outputNames[0]].data as Float32Array;
      assert.equal(theirs.length, ours.length);
      const diff = Math.max(...ours.map((v, i) => Math.abs(v - theirs[i])));
      assert.ok(diff <= 1e-4, `max abs difference ${diff}`);
      x.dispose();
    }
    model.weights.dispose();
    const bad = spawnSync(process.execPath, [CLI, 'export', '--checkpoint', file, '--format', 'tflite', '--out', onnxFile], { encoding: 'utf8' });
    assert.match(bad.stderr, /--format: expected onnx or web, got 'tflite'/);
    fs.rmSync(dir, { recursive: true });
  });
});
