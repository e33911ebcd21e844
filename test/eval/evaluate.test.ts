/**
 * evaluateDataset stopped by a Ctrl-C (shouldStop) between images: the
 * figures are those of the images done, flagged as stopped, and equal an
 * evaluation limited to those images (the oracle).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { BuiltinScenes } from '../../src/data/builtin';
import { evaluateDataset } from '../../src/eval/evaluate';

describe('evaluateDataset and shouldStop', () => {
  it('stops between images; the result equals the evaluation of the images done', async () => {
    T.manualSeed(0);
    const ds = new BuiltinScenes({ size: 6, imageSize: 32, seed: 3 });
    const w = T.randn([ds.numClasses, 3, 3, 3]);
    const predict = (x: T.Tensor) => T.conv2d(x, w, { padding: 1 });
    let seen = 0;
    const stopped = await evaluateDataset(predict, ds, { scales: [1], flip: false }, (d) => (seen = d), Infinity, undefined, () => seen >= 2);
    const oracle = await evaluateDataset(predict, ds, { scales: [1], flip: false }, undefined, 2);
    const whole = await evaluateDataset(predict, ds, { scales: [1], flip: false }, undefined, Infinity, undefined, () => false);
    w.dispose();
    assert.equal(stopped.stopped, true);
    assert.equal(stopped.images, 2);
    assert.deepEqual(stopped.confusionMatrix, oracle.confusionMatrix);
    assert.equal(stopped.mIoU, oracle.mIoU);
    assert.equal(whole.stopped, undefined);
    assert.equal(whole.images, 6);
    assert.equal(whole.confusionMatrix.flat().reduce((a, b) => a + b, 0), 6 * 32 * 32 - (await ignored(ds, 6)));
  });
});

/** Pixels labelled 255 (ignored) in the first n images. */
async function ignored(ds: BuiltinScenes, n: number): Promise<number> {
  let k = 0;
  for (let i = 0; i < n; i++) (await ds.get(i)).label.forEach((v) => (k += v === 255 ? 1 : 0));
  return k;
}
