/**
 * A lower bound of a training run's memory, checked before its first step:
 * every convolution's output is kept for the backward pass, so a step holds
 * at least batch x (sum of the convolution outputs of one image) floats. The
 * sum comes from a forward pass over a batch of zero images (libtorch computes
 * every shape and no arithmetic, as `cost` does). A run whose bound exceeds
 * 90% of the machine's memory cannot fit and is refused (exit 2) instead of
 * ending in the OOM killer or an allocation error.
 */
import * as os from 'node:os';
import * as T from '../engine';
import { AutoDeepLab } from '../model/network';
import { sharedBy } from '../run/launch';
import { ConfigError } from '../util/errors';

/** Elements of every convolution output of one crop x crop image. */
export function convOutputElements(model: AutoDeepLab, crop: number): number {
  let n = 0;
  T.noGrad(() => T.tidy(() => T.observeConvolutions((r) => {
    n += r.output[1] * r.output[2] * r.output[3];
  }, () => model.forward(T.zeros([0, 3, crop, crop]), false))));
  return n;
}

/** `ranks`: processes of this job on this machine, which share its memory. */
export function checkTrainFits(model: AutoDeepLab, crop: number, batch: number, totalBytes = os.totalmem(), ranks = 1): void {
  const refuse = (atLeast: number, what: string) => {
    if (atLeast <= (0.9 * totalBytes) / ranks) return;
    const gb = (b: number) => `${b < 1e12 ? (b / 1e9).toFixed(1) : (b / 1e9).toExponential(1)} GB`;
    throw new ConfigError(`train: needs at least ${gb(atLeast)} of memory (crop ${crop}, batch ${batch}: ${what}) ` +
      `but this machine has ${gb(totalBytes)}${sharedBy(ranks, totalBytes)}; use a smaller --crop or --batch-size`);
  };
  // The batch itself first (float32 RGB + int64 labels, 20 bytes a pixel): shapes too large for libtorch's strides stop here.
  refuse(batch * crop ** 2 * 20, 'the batch itself');
  refuse(batch * convOutputElements(model, crop) * 4, 'the convolution outputs a step keeps');
}
