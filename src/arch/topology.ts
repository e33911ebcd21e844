/**
 * Index arithmetic of the search space, in one place: the edges of a cell
 * (which hidden state feeds which block, and the row of alpha it uses) and
 * the arrows of the trellis (the row of beta each arrow uses). Search,
 * decoding, the retrained model and the reports all read these.
 *
 * Cell (Sec. 3.1): B blocks; block i reads the states before it, in this
 * order: prevPrev (H^{l-2}), prev (H^{l-1}), block0 .. block{i-1}. Sources
 * are numbered the same way: 0 prevPrev, 1 prev, 2 + j block j.
 */

/** A hidden state a block can read: H^{l-1}, H^{l-2}, or an earlier block of the same cell. */
export type CellInput = 'prev' | 'prevPrev' | `block${number}`;

/** The input names block i may read, in edge order: prevPrev, prev, block0, ... */
export function cellInputsOf(block: number): CellInput[] {
  return ['prevPrev', 'prev', ...Array.from({ length: block }, (_, j) => `block${j}` as CellInput)];
}

/** Source number of a cell input: prevPrev 0, prev 1, blockJ 2 + J. */
export function inputIndex(input: CellInput): number {
  if (input === 'prevPrev') return 0;
  if (input === 'prev') return 1;
  return 2 + Number(input.slice(5));
}

/** Row of alpha of the edge source -> block: blocks in order, sources in cellInputsOf order. */
export function edgeIndex(block: number, source: number): number {
  return block * 2 + (block * (block - 1)) / 2 + source; // sum_{i' < block} (2 + i') + source
}

/** Rows of alpha of a cell of B blocks. */
export function numEdges(blocks: number): number {
  return edgeIndex(blocks, 0);
}

/** Blocks fed by source j, in order (0 prevPrev, 1 prev: every block; block m: blocks m+1 ..). */
export function targetsOf(source: number, blocks: number): number[] {
  const first = firstTarget(source);
  return Array.from({ length: Math.max(0, blocks - first) }, (_, t) => first + t);
}

/** The first block that source j feeds. */
function firstTarget(source: number): number {
  return source < 2 ? 0 : source - 1;
}

/** Position of block i among targetsOf(source): the slot of that edge in the source's fused outputs. */
export function targetSlot(source: number, block: number): number {
  return block - firstTarget(source);
}

/** Sources that feed some block (the last block feeds none): 0 .. B. */
export function feedingSources(blocks: number): number[] {
  return Array.from({ length: blocks + 1 }, (_, j) => j).filter((j) => targetsOf(j, blocks).length > 0);
}

/**
 * Trellis arrows (Sec. 3.2): beta has shape (L, levels, 3); the arrow leaving
 * node (l - 1, from) (the stem for l = 0) in direction dir (-1 finer, 0 same,
 * +1 coarser) owns entry [l][from][dir + 1], i.e. this row of beta flattened.
 */
export function betaIndex(layer: number, from: number, dir: number, levels: number): number {
  return (layer * levels + from) * 3 + (dir + 1);
}
