/**
 * Sizes in the search space: channels and feature-map sides per level
 * (level k is output stride 4 * 2^k).
 */

/** Per-block channels at level k: F * 2^k (so B * F * s/4 per node at stride s = 4 * 2^k). */
export function blockChannels(filterMultiplier: number, level: number): number {
  return filterMultiplier * 2 ** level;
}

/** Spatial size at each level for an input of `size` pixels: the stem halves twice, each level once more. */
export function levelSizes(size: number, levels: number): number[] {
  const half = (n: number) => Math.floor((n - 1) / 2) + 1; // 3x3 conv, stride 2, padding 1
  const out = [half(half(size))];
  for (let k = 1; k < levels; k++) out.push(half(out[k - 1]));
  return out;
}

/** The smallest crop whose coarsest level is at least 2x2. */
export function minCrop(levels: number): number {
  let crop = 16;
  while (levelSizes(crop, levels)[levels - 1] < 2) crop++;
  return crop;
}

/**
 * B, the blocks of a cell, that search and latency-table accept: at least 2
 * (decoding keeps two inputs per block), at most twice the paper's 5 (Sec.
 * 4.1). A supernet cell of B blocks has B(B + 3) / 2 mixed ops (20 at B = 5,
 * 65 at B = 10) and its outputs B * F * 2^k channels, so time and memory grow
 * with B^2; beyond 10 a search or a 1024x2048 latency table takes days.
 */
export const BLOCKS = { min: 2, max: 10, why: 'decoding keeps two inputs per block; at most twice the paper\'s 5, a cell has B(B + 3) / 2 mixed ops' } as const;
