/**
 * Architectures drawn uniformly from the search space (the random baseline
 * that tells whether a search earned its cost; issue 12, item 7).
 *
 * - Cell: each block reads an unordered pair of distinct inputs, uniform over
 *   the C(2 + i, 2) pairs its predecessors allow, and applies a non-zero op on
 *   each branch, uniform and independent. Branches are stored in input order,
 *   so one cell (a sum of two branches is symmetric) has one genotype.
 * - Path: uniform over the valid trellis paths. A per-step random walk is not
 *   uniform (a step towards a boundary level leaves fewer continuations), so the
 *   continuations from every node are counted by dynamic programming and each
 *   step is taken with probability proportional to its count.
 */
import { Rng } from '../util/random';
import { BlockBranch, BlockGenotype, Genotype, Level } from './genotype';
import { validateGenotype } from './genotype_file';
import { CELL_OPS, CellOpName } from './primitives';
import { cellInputsOf } from './topology';
import { NetworkTrellis } from './trellis';


/** A cell of `blocks` blocks, uniform over pairs of distinct inputs and over `ops` per branch. */
export function sampleCell(rng: Rng, blocks: number, ops: readonly CellOpName[] = CELL_OPS): BlockGenotype[] {
  return Array.from({ length: blocks }, (_, i) => {
    const inputs = cellInputsOf(i);
    const first = rng.int(inputs.length);
    let second = rng.int(inputs.length - 1);
    if (second >= first) second += 1; // uniform over the other inputs: the pair is uniform among unordered pairs
    const [a, b] = first < second ? [first, second] : [second, first];
    const branch = (k: number): BlockBranch => ({ input: inputs[k], op: ops[rng.int(ops.length)] });
    return [branch(a), branch(b)] as BlockGenotype;
  });
}

/** completions[l][k]: the ways to finish a path whose layer l is at level k (layers l + 1 .. L - 1; 1 at the last layer, 0 off the trellis). */
export function pathCompletions(trellis: NetworkTrellis): number[][] {
  const L = trellis.layers;
  const c: number[][] = Array.from({ length: L }, () => new Array(trellis.levels).fill(0));
  for (let l = L - 1; l >= 0; l--) {
    for (const k of trellis.levelsAt(l)) {
      c[l][k] = l === L - 1 ? 1 : trellis.arrowsFrom(l + 1, k).reduce((s, a) => s + c[l + 1][a.to], 0);
    }
  }
  return c;
}

/** A network path of `layers` levels, uniform over the trellis' valid paths (the stem is at level 0). */
export function samplePath(rng: Rng, layers: number, levels = 4): Level[] {
  const trellis = new NetworkTrellis(layers, levels);
  const c = pathCompletions(trellis);
  const path: Level[] = [];
  let from = 0; // the stem
  for (let l = 0; l < layers; l++) {
    const arrows = trellis.arrowsFrom(l, from);
    const total = arrows.reduce((s, a) => s + c[l][a.to], 0);
    let u = rng.next() * total;
    const pick = arrows.find((a) => (u -= c[l][a.to]) < 0) ?? arrows[arrows.length - 1];
    path.push(pick.to as Level);
    from = pick.to;
  }
  return path;
}

/** A whole genotype drawn uniformly (cell and path independent), checked by the genotype validator. */
export function sampleGenotype(rng: Rng, shape: { blocks: number; layers: number }, ops: readonly CellOpName[] = CELL_OPS): Genotype {
  const g = { version: 1, cell: { blocks: sampleCell(rng, shape.blocks, ops) }, path: samplePath(rng, shape.layers) };
  return validateGenotype(g, 'random genotype');
}
