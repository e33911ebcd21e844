/**
 * Peak memory of a search before it starts, so that a run that cannot fit is
 * refused with the estimate instead of ending in the kernel's OOM killer.
 *
 * The model: runtime (PROCESS_BYTES) + weight copies + node states + full-resolution
 * tensors. Node states grow with S = batch * sum over nodes of (B * F * 2^k)
 * * side_k^2 (what the recomputed backward keeps); the supernet keeps about
 * K_KEEP times S alive with every activation kept, K_RECOMPUTE times S with
 * layer-wise recomputation (one layer's activations plus every state). What
 * does not depend on the cells grows with the input pixels (the stem's
 * stride-2 maps and their gradients, the heads' logits upsampled to the
 * input, the loss, the batch itself): PER_PIXEL bytes per image pixel.
 * Weights are held with their gradient and SGD momentum (3 copies); with
 * recomputation, gradients are freed segment by segment (about 2 copies).
 * Fitted to `npm run bench -- search` (the bench prints the estimate beside
 * each measurement) and to peaks of a tiny supernet at large crops, where the
 * full-resolution tensors dominate (docs/search.md#memory-and-speed).
 */
import { blockChannels, levelSizes } from '../arch/space';
import { NetworkTrellis } from '../arch/trellis';
import * as os from 'node:os';
import { PROCESS_BYTES, sharedBy } from '../run/launch';
import { ConfigError } from '../util/errors';
import { SearchConfig } from './search_config';

const K_KEEP = 120;
const K_RECOMPUTE = 21;
const PER_PIXEL = 720;

/** Elements of every node output of the trellis for one batch. */
export function stateElements(cfg: SearchConfig): number {
  const sizes = levelSizes(cfg.crop, cfg.levels);
  const trellis = new NetworkTrellis(cfg.layers, cfg.levels);
  let s = 0;
  for (let l = 0; l < cfg.layers; l++) {
    for (const k of trellis.levelsAt(l)) s += cfg.blocks * blockChannels(cfg.filterMultiplier, k) * sizes[k] ** 2;
  }
  return cfg.batchSize * s;
}

/**
 * Estimated peak resident memory in bytes of a search with this configuration
 * and this many weights ('auto' counted as recomputing: the least it can need).
 */
export function estimateSearchBytes(cfg: SearchConfig, weightCount: number): number {
  const recompute = cfg.recompute !== false;
  const weights = weightCount * 4 * (recompute ? 2 : 3);
  const pixels = cfg.batchSize * cfg.crop ** 2;
  return PROCESS_BYTES + weights + stateElements(cfg) * 4 * (recompute ? K_RECOMPUTE : K_KEEP) + pixels * PER_PIXEL;
}

/** Keeping activations is chosen by 'auto' only while its estimate is at most this share of the machine's memory. */
export const KEEP_SHARE = 0.5;

/**
 * Resolves recompute 'auto': keep every activation (one forward pass per step
 * instead of about two: docs/search.md#memory-and-speed) when the estimated
 * peak of doing so is at most KEEP_SHARE of this machine's memory (of its
 * share, with `ranks` processes here), else recompute. true and false stand.
 * `why` says what was chosen and on what numbers, for the run's log.
 */
export function chooseRecompute(cfg: SearchConfig, weightCount: number, totalBytes = os.totalmem(), ranks = 1): { recompute: boolean; why: string } {
  if (cfg.recompute !== 'auto') return { recompute: cfg.recompute, why: `${cfg.recompute ? 'recomputing' : 'keeping'} activations (recompute: ${cfg.recompute})` };
  const keep = estimateSearchBytes({ ...cfg, recompute: false }, weightCount);
  const share = (KEEP_SHARE * totalBytes) / ranks;
  return keep <= share
    ? { recompute: false, why: `keeping activations: about ${gb(keep)} of ${gb(share)} (half this machine's memory${ranks > 1 ? ', per process' : ''}; --recompute saves memory)` }
    : { recompute: true, why: `recomputing activations: keeping them would need about ${gb(keep)}, over ${gb(share)} (half this machine's memory${ranks > 1 ? ', per process' : ''})` };
}

const gb = (b: number) => `${b < 1e12 ? (b / 1e9).toFixed(1) : (b / 1e9).toExponential(1)} GB`;

/**
 * Refuses (exit 2) a search whose estimated peak exceeds 90% of this
 * machine's memory (of its share, when `ranks` processes of a job run here), with the numbers.
 */
export function checkSearchFits(cfg: SearchConfig, weightCount: number, totalBytes = os.totalmem(), ranks = 1): void {
  const need = estimateSearchBytes(cfg, weightCount);
  const budget = (0.9 * totalBytes) / ranks;
  if (need <= budget) return;
  // The largest crop that fits (the estimate grows with the crop): binary search.
  let [lo, hi] = [0, cfg.crop];
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (estimateSearchBytes({ ...cfg, crop: mid }, weightCount) <= budget) lo = mid;
    else hi = mid;
  }
  const crop = lo;
  throw new ConfigError(`search: needs about ${gb(need)} of memory (crop ${cfg.crop}, batch ${cfg.batchSize}, ` +
    `F ${cfg.filterMultiplier}, ${cfg.layers} layers${cfg.recompute === false ? ', --no-recompute' : ''}) but this machine has ${gb(totalBytes)}${sharedBy(ranks, totalBytes)}; ` +
    `${cfg.recompute === false ? 'drop --no-recompute, or ' : ''}use a smaller --crop (about ${crop} fits), --batch-size or --filter-multiplier`);
}
