/** mIoU and pixel accuracy against a hand-computed confusion matrix; multi-scale + flip on a known model. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { inferProbabilities } from '../../src/eval/evaluate';
import { ConfusionMatrix } from '../../src/data/confusion';

describe('ConfusionMatrix', () => {
  it('matches a hand-computed example with an absent class and ignored pixels', () => {
    // 4 classes; class 3 never appears in labels nor predictions; 255 is ignored.
    const labels = [0, 0, 0, 1, 1, 2, 2, 2, 255, 255];
    const preds = [0, 0, 1, 1, 2, 2, 2, 0, 3, 1];
    const cm = new ConfusionMatrix(4);
    cm.add(labels, preds);
    assert.deepEqual(cm.toRows(), [[2, 1, 0, 0], [0, 1, 1, 0], [1, 0, 2, 0], [0, 0, 0, 0]]);
    // IoU: class 0: 2 / (2 + 1 + 1) = 0.5; class 1: 1 / (1 + 1 + 1) = 1/3; class 2: 2 / (2 + 1 + 1) = 0.5; class 3: absent.
    const iou = cm.iou();
    assert.ok(Math.abs(iou[0] - 0.5) < 1e-12 && Math.abs(iou[1] - 1 / 3) < 1e-12 && Math.abs(iou[2] - 0.5) < 1e-12);
    assert.ok(Number.isNaN(iou[3]));
    assert.ok(Math.abs(cm.meanIoU() - (0.5 + 1 / 3 + 0.5) / 3) < 1e-12);
    assert.ok(Math.abs(cm.pixelAccuracy() - 5 / 8) < 1e-12);
  });

  it('a class predicted but absent from the labels counts, with IoU 0', () => {
    const cm = new ConfusionMatrix(3);
    cm.add([0, 0], [0, 2]);
    assert.deepEqual(cm.iou().map((v) => (Number.isNaN(v) ? null : v)), [0.5, null, 0]);
    assert.equal(cm.meanIoU(), 0.25);
  });

  it('labels out of range are errors naming the pixel', () => {
    const cm = new ConfusionMatrix(3);
    assert.throws(() => cm.add([0, 7], [0, 0]), /label 7 at pixel 1 is outside 0..2/);
    assert.throws(() => cm.add([0], [0, 1]), /1 labels but 2 predictions/);
  });
});

describe('multi-scale + flip inference', () => {
  // A "model" whose answer is known: class 1 where the first channel is positive, else 0, at any scale.
  const thresholdModel = (x: T.Tensor) => {
    const c0 = T.narrow(x, 1, 0, 1);
    return T.cat([T.neg(c0), c0], 1); // logits (B, 2, H, W)
  };

  it('averages probabilities over scales and flips and returns the known answer', () => {
    T.tidy(() => {
      // Left half positive, right half negative: flips would swap them if not undone.
      const half = Array.from({ length: 32 * 32 }, (_, p) => (p % 32 < 16 ? 1 : -1));
      const img = T.tensor([...half, ...half, ...half], [1, 3, 32, 32]);
      const single = T.argmax(inferProbabilities(thresholdModel, img, { scales: [1], flip: false }), 1).toArray();
      const multi = T.argmax(inferProbabilities(thresholdModel, img, { scales: [0.5, 0.75, 1, 1.25, 1.5, 1.75], flip: true }), 1).toArray();
      const want = half.map((v) => (v > 0 ? 1 : 0));
      assert.deepEqual(single, want);
      assert.deepEqual(multi, want);
      const p = inferProbabilities(thresholdModel, img, { scales: [1, 1.5], flip: true });
      assert.deepEqual(p.shape, [1, 2, 32, 32]);
      const sums = T.sum(p, 1).toArray();
      assert.ok(sums.every((s) => Math.abs(s - 1) < 1e-5), 'probabilities sum to 1');
    });
  });

  it('a flip-sensitive model shows that flipped predictions are flipped back', () => {
    T.tidy(() => {
      // Logits that prefer class 1 on the left half of whatever it sees.
      const leftModel = (x: T.Tensor) => {
        const [, , H, W] = x.shape;
        const left = Array.from({ length: H * W }, (_, p) => (p % W < W / 2 ? 2 : -2));
        const l = T.tensor(left, [1, 1, H, W]);
        return T.cat([T.neg(l), l], 1);
      };
      const img = T.zeros([1, 3, 16, 16]);
      const withFlip = T.argmax(inferProbabilities(leftModel, img, { scales: [1], flip: true }), 1).toArray();
      // The left-preferring pass and its flipped-back (right-preferring) pass cancel out: ties go to class 0.
      assert.ok(withFlip.every((v) => v === 0));
    });
  });
});
