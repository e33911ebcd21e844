/**
 * Oracles shared by the budget tests: every cell and every path of small
 * spaces, one-hot and random architecture weights, a table with arbitrary
 * costs, and log-probabilities read straight off a genotype.
 */
import { CostTable, NetworkShape, Size } from '../../src/budget/cost_table';
import { BlockGenotype, CellGenotype, Genotype, Level } from '../../src/arch/genotype';
import { CellOpName, PRIMITIVE_INDEX, PRIMITIVES, ZERO } from '../../src/arch/primitives';
import { cellInputsOf, edgeIndex, inputIndex, numEdges } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { jsRandom } from '../helpers';
import { CELL_OPS, randomBeta } from '../arch/random_genotype';

/**
 * A table with arbitrary positive per-pixel costs for every part (pools and
 * skips not free), as a latency table may be. integer: costs per pixel in
 * 1..4 (sums exact and often equal, for oracles that merge equal costs).
 */
export class RandomTable implements CostTable {
  readonly unit = 'ms';
  private readonly r: Map<string, number> = new Map();
  constructor(readonly shape: NetworkShape, private readonly seed: number, private readonly integer = false) {}
  private v(key: string): number {
    if (!this.r.has(key)) {
      const u = jsRandom(this.seed + [...key].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) % 100003)();
      this.r.set(key, this.integer ? 1 + Math.floor(4 * u) : u + 0.01);
    }
    return this.r.get(key)!;
  }
  stem() { return this.v('stem'); }
  pre(a: number, b: number, k: number, [h, w]: Size) { return h * w * this.v(`pre${a},${b},${k}`); }
  op(op: CellOpName, k: number, s: boolean, [h, w]: Size) { return h * w * this.v(`${op}${k}${s}`); }
  upsample(k: number, [h, w]: Size) { return h * w * this.v(`up${k}`); }
  aspp(k: number, [h, w]: Size) { return h * w * this.v(`aspp${k}`); }
  decoder(c: boolean) { return this.v(`dec${c}`); }
}

/** Every cell the decoder can choose: per block two distinct inputs, each with any non-zero op. */
export function allCells(blocks: number): CellGenotype[] {
  let cells: BlockGenotype[][] = [[]];
  for (let i = 0; i < blocks; i++) {
    const inputs = cellInputsOf(i);
    const options: BlockGenotype[] = [];
    inputs.forEach((a, j1) => inputs.slice(j1 + 1).forEach((b) => {
      for (const o1 of CELL_OPS) for (const o2 of CELL_OPS) options.push([{ input: a, op: o1 }, { input: b, op: o2 }]);
    }));
    cells = cells.flatMap((c) => options.map((o) => [...c, o]));
  }
  return cells.map((blocksOf) => ({ blocks: blocksOf }));
}

export function allPaths(trellis: NetworkTrellis): Level[][] {
  const out: Level[][] = [];
  const walk = (l: number, k: number, p: Level[]) => {
    if (l === trellis.layers) return void out.push(p);
    for (const a of trellis.arrowsFrom(l, k)) walk(l + 1, a.to, [...p, a.to as Level]);
  };
  walk(0, 0, []);
  return out;
}

/** Softmaxed random alpha rows ([edge][op]); sharp: the spread of the logits. */
export function randomAlpha(blocks: number, seed: number, sharp: number): number[][] {
  const r = jsRandom(seed);
  return Array.from({ length: numEdges(blocks) }, () => {
    const e = PRIMITIVES.map(() => Math.exp(sharp * (2 * r() - 1)));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
}

/** alpha one-hot on a cell: each kept edge on its op, every other edge on zero. */
export function oneHotAlpha(cell: CellGenotype): number[][] {
  const rows = Array.from({ length: numEdges(cell.blocks.length) }, () => PRIMITIVES.map((_, o) => (o === ZERO ? 1 : 0)));
  cell.blocks.forEach((block, i) => block.forEach((br) => {
    rows[edgeIndex(i, inputIndex(br.input))] = PRIMITIVES.map((_, o) => (o === PRIMITIVE_INDEX[br.op] ? 1 : 0));
  }));
  return rows;
}

/** beta one-hot on a path; rows off the path keep random values (they carry no probability). */
export function oneHotBeta(trellis: NetworkTrellis, path: readonly number[], seed: number): number[][][] {
  const beta = randomBeta(trellis, seed);
  path.forEach((k, l) => {
    const from = l === 0 ? 0 : path[l - 1];
    beta[l][from] = [-1, 0, 1].map((d) => (from + d === k ? 1 : 0));
  });
  return beta;
}

/** Log of the product of alpha over a cell's branches. */
export const cellLp = (alpha: number[][], c: CellGenotype) => c.blocks.reduce((s, b, i) => s + b.reduce((t, br) => t + Math.log(alpha[edgeIndex(i, cellInputsOf(i).indexOf(br.input))][PRIMITIVES.indexOf(br.op)]), 0), 0);
/** Log of the product of beta over a path's arrows. */
export const pathLp = (beta: number[][][], p: readonly Level[]) => p.reduce((s: number, k, l) => s + Math.log(beta[l][l === 0 ? 0 : p[l - 1]][k - (l === 0 ? 0 : p[l - 1]) + 1]), 0);
/** A genotype's log-probability: its cells' (each layer's from its own alpha, per layer) plus its path's. */
export function genotypeLp(alpha: number[][] | number[][][], beta: number[][][], g: Genotype): number {
  const cells = g.cells ? g.cells.reduce((s, c, l) => s + cellLp((alpha as number[][][])[l], c), 0) : cellLp(alpha as number[][], g.cell!);
  return cells + pathLp(beta, g.path);
}
