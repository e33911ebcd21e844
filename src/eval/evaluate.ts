/**
 * Evaluation of a segmentation model on whole images of any size: single
 * scale, or several scales with horizontal flips, averaging the softmax
 * probabilities (DeepLab's multi-scale inference) before the argmax.
 */
import * as T from '../engine';
import { normalizeImage, Shard } from '../data/pipeline';
import { Sample, SegmentationDataset } from '../data/dataset';
import { ConfusionMatrix } from '../data/confusion';
import { sumOverRanks } from '../run/ddp';

/** images (1, 3, H, W) normalised -> logits (1, classes, H, W). */
export type Predictor = (images: T.Tensor) => T.Tensor;

export interface InferenceOptions {
  scales: number[];
  flip: boolean;
}

/** Class probabilities (1, classes, H, W) of one image, averaged over scales and flips. */
export function inferProbabilities(predict: Predictor, image: T.Tensor, o: InferenceOptions): T.Tensor {
  const [, , H, W] = image.shape;
  let sum: T.Tensor | null = null;
  let n = 0;
  for (const s of o.scales) {
    const h = Math.max(16, Math.round(H * s));
    const w = Math.max(16, Math.round(W * s));
    const scaled = h === H && w === W ? image : T.resizeBilinear(image, [h, w], true);
    for (const flip of o.flip ? [false, true] : [false]) {
      const input = flip ? T.flip(scaled, [3]) : scaled;
      let logits = predict(input);
      if (flip) logits = T.flip(logits, [3]);
      if (logits.shape[2] !== H || logits.shape[3] !== W) logits = T.resizeBilinear(logits, [H, W], true);
      const p = T.softmax(logits, 1);
      sum = sum ? T.add(sum, p) : p;
      n++;
    }
  }
  return T.div(sum!, n);
}

/** Predicted class ids (H*W) of one sample. */
export function predictSample(predict: Predictor, s: Sample, o: InferenceOptions): Int32Array {
  return T.noGrad(() => T.tidy(() => {
    const image = T.tensor(normalizeImage(s), [1, 3, s.height, s.width]);
    return Int32Array.from(T.argmax(inferProbabilities(predict, image, o), 1).toArray());
  }));
}

export interface EvaluationResult {
  mIoU: number;
  pixelAccuracy: number;
  perClassIoU: Record<string, number | null>;
  confusionMatrix: number[][];
  images: number;
  /** True when shouldStop ended the evaluation early: the figures cover `images` images only. */
  stopped?: boolean;
}

/**
 * The metrics over the first `limit` images. With a shard (rank r of N in a
 * data-parallel job) this process predicts images r, r + N, ... and the
 * confusion matrices are summed over the ranks: every rank gets the result
 * of one process predicting them all. onImage counts this process's images.
 * shouldStop (a Ctrl-C) is honoured between images, in a one-process run only
 * (ranks must all reach the final sum).
 */
export async function evaluateDataset(predict: Predictor, dataset: SegmentationDataset, o: InferenceOptions,
  onImage?: (done: number, total: number) => void, limit = Infinity, shard?: Shard, shouldStop?: () => boolean): Promise<EvaluationResult> {
  const cm = new ConfusionMatrix(dataset.numClasses);
  const n = Math.min(dataset.length, limit);
  const { rank, worldSize } = shard ?? { rank: 0, worldSize: 1 };
  const mine: number[] = [];
  for (let i = rank; i < n; i += worldSize) mine.push(i);
  let next = mine.length > 0 ? dataset.get(mine[0]) : null;
  let done = 0;
  for (let j = 0; j < mine.length; j++) {
    if (worldSize === 1 && shouldStop?.()) {
      await next?.catch(() => null); // the image being decoded: no unhandled rejection
      break;
    }
    const s = await next!;
    next = j + 1 < mine.length ? dataset.get(mine[j + 1]) : null; // decode the next image while this one runs
    cm.add(s.label, predictSample(predict, s, o));
    onImage?.(j + 1, mine.length);
    done = j + 1;
  }
  sumOverRanks(shard, cm.counts, true);
  const iou = cm.iou();
  return {
    mIoU: cm.meanIoU(), pixelAccuracy: cm.pixelAccuracy(),
    perClassIoU: Object.fromEntries(dataset.classNames.map((c, k) => [c, Number.isNaN(iou[k]) ? null : iou[k]])),
    confusionMatrix: cm.toRows(), images: worldSize === 1 ? done : n, ...(worldSize === 1 && done < n ? { stopped: true } : {}),
  };
}
