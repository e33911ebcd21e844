/** One exported graph of symbolic height and width, run by onnxruntime-node at sizes it was not traced at, matches the engine. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import * as T from '../../src/engine';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { modelConfig } from '../../src/model/presets';
import { AutoDeepLab } from '../../src/model/network';
import { exportOnnxDynamic } from '../../src/deploy/onnx_dynamic';

// Every op of the search space, and a path that goes to coarser and back to finer levels
// (where a cell resizes its inputs at some sizes and not at others).
const CELL = { blocks: [
  [{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'sep5x5' }],
  [{ input: 'prevPrev', op: 'atrous3x3' }, { input: 'prev', op: 'atrous5x5' }],
  [{ input: 'block0', op: 'avgpool3x3' }, { input: 'block1', op: 'maxpool3x3' }],
  [{ input: 'prev', op: 'skip' }, { input: 'block2', op: 'sep3x3' }],
] };
const PATHS = { released: AUTO_DEEPLAB_GENOTYPE.path, 'up and down': [0, 1, 0, 1, 2, 1, 0, 0] };

describe('ONNX export, dynamic height and width', () => {
  for (const [what, p] of Object.entries(PATHS)) it(`onnxruntime-node equals the engine within 1e-4 at sizes other than the traced ones (${what} path)`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-onnx-dyn-'));
    T.manualSeed(0);
    const model = new AutoDeepLab(modelConfig({ genotype: { version: 1, cell: CELL, path: p } as never, filterMultiplier: 4, numClasses: 5, bn: { momentum: 0.5, eps: 1e-3 } }));
    T.noGrad(() => { for (let i = 0; i < 2; i++) T.tidy(() => model.forward(T.randn([2, 3, 64, 64]), true)); });
    const file = path.join(dir, 'model.onnx');
    exportOnnxDynamic((x) => model.forward(x, false), file);
    const graph = onnx.ModelProto.decode(fs.readFileSync(file)).graph!;
    assert.deepEqual(graph.input![0].type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue)), [1, 3, 'height', 'width']);
    const session = await ort.InferenceSession.create(file);
    // Odd and even level sizes (65: 17, 9, 5, 3; 72: 18, 9, 5, 3; 100: 25, 13, 7, 4), neither traced.
    for (const [h, w] of [[65, 100], [72, 49]]) {
      T.manualSeed(h);
      const x = T.randn([1, 3, h, w]);
      const ours = T.noGrad(() => T.tidy(() => model.forward(x, false).toArray()));
      const out = await session.run({ input: new ort.Tensor('float32', x.data() as Float32Array, [1, 3, h, w]) });
      const logits = out[session.outputNames[0]];
      assert.deepEqual(logits.dims, [1, 5, h, w]);
      const theirs = logits.data as Float32Array;
      const diff = ours.reduce((m, v, i) => Math.max(m, Math.abs(v - theirs[i])), 0);
      assert.ok(diff <= 1e-4, `${h}x${w}: max abs difference ${diff}`);
      x.dispose();
    }
    await session.release();
    model.weights.dispose();
    fs.rmSync(dir, { recursive: true });
  });
});
