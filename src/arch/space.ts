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
