/** Segmentation metrics from a confusion matrix (rows: ground truth, columns: prediction). */
import { IGNORE_INDEX } from './dataset';

export class ConfusionMatrix {
  readonly counts: Float64Array;
  constructor(readonly numClasses: number) {
    this.counts = new Float64Array(numClasses * numClasses);
  }

  /** Adds pixels; labels equal to ignoreIndex are skipped, labels >= numClasses are an error. */
  add(labels: ArrayLike<number>, preds: ArrayLike<number>, ignoreIndex = IGNORE_INDEX): void {
    if (labels.length !== preds.length) throw new RangeError(`ConfusionMatrix.add: ${labels.length} labels but ${preds.length} predictions`);
    const K = this.numClasses;
    for (let i = 0; i < labels.length; i++) {
      const t = labels[i];
      if (t === ignoreIndex) continue;
      const p = preds[i];
      if (t < 0 || t >= K || !Number.isInteger(t)) throw new RangeError(`ConfusionMatrix.add: label ${t} at pixel ${i} is outside 0..${K - 1}`);
      if (p < 0 || p >= K) throw new RangeError(`ConfusionMatrix.add: prediction ${p} at pixel ${i} is outside 0..${K - 1}`);
      this.counts[t * K + p] += 1;
    }
  }

  merge(other: ConfusionMatrix): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i];
  }

  /** IoU per class; NaN for classes absent from both labels and predictions. */
  iou(): number[] {
    const K = this.numClasses;
    return Array.from({ length: K }, (_, c) => {
      let tp = 0;
      let fp = 0;
      let fn = 0;
      for (let j = 0; j < K; j++) {
        if (j === c) tp = this.counts[c * K + c];
        else {
          fn += this.counts[c * K + j];
          fp += this.counts[j * K + c];
        }
      }
      const union = tp + fp + fn;
      return union === 0 ? NaN : tp / union;
    });
  }

  /** Mean IoU over classes that occur (in labels or predictions). */
  meanIoU(): number {
    const present = this.iou().filter((v) => !Number.isNaN(v));
    return present.length ? present.reduce((a, b) => a + b, 0) / present.length : NaN;
  }

  pixelAccuracy(): number {
    const K = this.numClasses;
    let correct = 0;
    let total = 0;
    for (let t = 0; t < K; t++) for (let p = 0; p < K; p++) {
      total += this.counts[t * K + p];
      if (t === p) correct += this.counts[t * K + p];
    }
    return total ? correct / total : NaN;
  }

  toRows(): number[][] {
    const K = this.numClasses;
    return Array.from({ length: K }, (_, t) => Array.from(this.counts.subarray(t * K, (t + 1) * K)));
  }
}
