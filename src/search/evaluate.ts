/** The search's per-epoch evaluation of the supernet on trainB, in one process or shared out over the ranks of a data-parallel job. */
import * as T from '../engine';
import { BatchSampler, Shard } from '../data/pipeline';
import { ConfusionMatrix } from '../data/confusion';
import { sumOverRanks } from '../run/ddp';
import { segmentationLoss } from './architect';
import { Supernet } from './supernet';

/**
 * Loss, mIoU and pixel accuracy on a sampler's deterministic batches (BN in
 * evaluation mode). With a shard, rank r evaluates batches r, r + N, ... and
 * the confusion matrix and loss sum are summed over the ranks: every rank gets
 * the numbers of one process evaluating them all.
 */
export async function evaluateSupernet(net: Supernet, sampler: BatchSampler, numClasses: number,
  shard: Shard = { rank: 0, worldSize: 1 }): Promise<{ loss: number; mIoU: number; pixelAccuracy: number }> {
  const cm = new ConfusionMatrix(numClasses);
  let loss = 0;
  const n = sampler.batchesPerEpoch;
  for (let k = shard.rank; k < n; k += shard.worldSize) {
    const samples = await sampler.load(0, k);
    T.noGrad(() => T.tidy(() => {
      const b = sampler.assemble(0, k, samples);
      const logits = net.forward(b.images, false);
      loss += segmentationLoss(logits, b.labels).item();
      cm.add(b.labels.toArray(), T.argmax(logits, 1).toArray());
    }));
  }
  sumOverRanks(shard, cm.counts, true);
  const total = Float64Array.of(loss);
  sumOverRanks(shard, total);
  return { loss: total[0] / n, mIoU: cm.meanIoU(), pixelAccuracy: cm.pixelAccuracy() };
}
