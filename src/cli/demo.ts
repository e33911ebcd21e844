/**
 * `autodeeplab demo`: the engine end to end in a few seconds. A small CNN
 * learns to segment generated images (bright squares vs. bright discs on a
 * noisy background), so the per-pixel loss visibly falls.
 */
import * as T from '../engine';
import { Rng } from '../util/random';
import { progress } from './progress';

export interface DemoOptions {
  steps: number;
  seed: number;
  threads: number;
}

/** (B, 1, S, S) images and (B, S, S) labels: 0 background, 1 square, 2 disc. */
function makeBatch(rng: Rng, batch: number, size: number): { images: T.Tensor; labels: T.Tensor } {
  const img = new Float32Array(batch * size * size);
  const lab = new BigInt64Array(batch * size * size);
  for (let b = 0; b < batch; b++) {
    for (let k = 0; k < 2; k++) {
      const cls = 1 + Math.floor(rng.next() * 2);
      const r = 2 + rng.next() * 3;
      const cy = r + rng.next() * (size - 2 * r);
      const cx = r + rng.next() * (size - 2 * r);
      for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
        const inside = cls === 1 ? Math.max(Math.abs(y - cy), Math.abs(x - cx)) <= r : Math.hypot(y - cy, x - cx) <= r;
        if (inside) {
          img[(b * size + y) * size + x] = 1;
          lab[(b * size + y) * size + x] = BigInt(cls);
        }
      }
    }
    for (let i = 0; i < size * size; i++) img[b * size * size + i] += 0.3 * (rng.next() - 0.5);
  }
  return { images: T.tensor(img, [batch, 1, size, size]), labels: T.tensor(lab, [batch, size, size]) };
}

export function runDemo(o: DemoOptions): { first: number; last: number } {
  T.setNumThreads(o.threads);
  T.manualSeed(o.seed);
  const widths = [1, 16, 16, 16];
  const convs = widths.slice(1).map((w, i) => T.mul(T.randn([w, widths[i], 3, 3]), Math.sqrt(2 / (9 * widths[i]))).keep().setRequiresGrad(true));
  const head = T.mul(T.randn([3, 16, 1, 1]), 0.1).keep().setRequiresGrad(true);
  const bias = T.zeros([3]).keep().setRequiresGrad(true);
  const opt = new T.SGD([...convs, head, bias], { lr: 0.05, momentum: 0.9, weightDecay: 1e-4 });
  const rng = new Rng(o.seed);
  const bar = progress('demo', o.steps);
  let first = NaN;
  let last = NaN;
  let ema = NaN;
  for (let step = 1; step <= o.steps; step++) {
    last = T.tidy(() => {
      const { images, labels } = makeBatch(rng, 8, 24);
      opt.zeroGrad();
      let h = images;
      convs.forEach((w, i) => (h = T.relu(T.conv2d(h, w, { padding: 2 ** i, dilation: 2 ** i }))));
      const logits = T.conv2d(h, head, { bias });
      const loss = T.crossEntropy(logits, labels);
      T.backward(loss);
      opt.step();
      return loss.item();
    });
    if (step === 1) first = last;
    ema = Number.isNaN(ema) ? last : 0.9 * ema + 0.1 * last;
    bar.update(step, { loss: ema });
  }
  bar.stop();
  T.dispose([convs, head, bias]);
  return { first, last: ema };
}
