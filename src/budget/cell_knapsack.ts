/**
 * The cells' part of decoding within a budget (constrained_decode.ts): on a fixed
 * path, the most probable cells whose branches cost at most a capacity.
 *
 * A branch's cost on a path depends only on its op and on whether it reads a
 * cell input (strided where the cell moves coarser) or a block, so each cell
 * site reduces to two per-op cost vectors (Weights). One cell for every
 * layer: the path's cost of a branch is the sum of the sites' weights, and the
 * choice is a multiple-choice knapsack over the B blocks. One cell per layer
 * (alpha per layer): the layers are separable, so it is a multiple-choice
 * knapsack over the L x B (layer, block) groups, each with its layer's site
 * weights and alpha. Both are solved exactly by merging per-group Pareto
 * fronts of (cost, log-probability).
 */
import { CellGenotype } from '../arch/genotype';
import { branchCost, CellSite, CostTable } from './cost_table';
import { CellOpName, PRIMITIVES, ZERO } from '../arch/primitives';
import { cellInputsOf, edgeIndex } from '../arch/topology';

const OPS = PRIMITIVES.map((_, o) => o).filter((o) => o !== ZERO);

/** Per-op cost of one branch at a site (or summed over sites): [reads a cell input, reads a block][primitive index]. */
export type Weights = [number[], number[]];

export function siteWeights(t: CostTable, site: CellSite): Weights {
  return [0, 2].map((source) => PRIMITIVES.map((op, o) => (o === ZERO ? 0 : branchCost(t, site, op as CellOpName, source)))) as Weights;
}

export const zeroWeights = (): Weights => [PRIMITIVES.map(() => 0), PRIMITIVES.map(() => 0)];
const addWeights = (a: Weights, b: Weights): Weights => [a[0].map((v, o) => v + b[0][o]), a[1].map((v, o) => v + b[1][o])];

interface Trail { layer: number; block: number; picks: [number, number, number, number]; prev: Trail | null }
interface Point { cost: number; lp: number; trail: Trail | null }

/** Points not dominated in (lower cost, higher log-probability), cost ascending. */
function pareto<P extends { cost: number; lp: number }>(points: P[]): P[] {
  points.sort((a, b) => a.cost - b.cost || b.lp - a.lp);
  const out: P[] = [];
  for (const p of points) if (out.length === 0 || p.lp > out[out.length - 1].lp) out.push(p);
  return out;
}

/** Pareto front of block i's options (in layer `layer`'s cell): two distinct inputs j1 < j2, each with a non-zero op. */
function blockFront(logAlpha: number[][], w: Weights, i: number, layer: number): Point[] {
  const edges = cellInputsOf(i).map((_, j) => pareto(OPS.map((op) => ({ cost: w[j < 2 ? 0 : 1][op], lp: logAlpha[edgeIndex(i, j)][op], op }))));
  const options: Point[] = [];
  edges.forEach((f1, j1) => edges.slice(j1 + 1).forEach((f2, d) => {
    for (const a of f1) for (const b of f2) options.push({ cost: a.cost + b.cost, lp: a.lp + b.lp, trail: { layer, block: i, picks: [j1, a.op, j1 + 1 + d, b.op], prev: null } });
  }));
  return pareto(options);
}

/** One option from each group, the most probable whose costs sum to at most `capacity`, or null (exact: Pareto merging). */
function knapsack(groups: Point[][], capacity: number): Point | null {
  const minAfter = groups.map((_, g) => groups.slice(g + 1).reduce((s, f) => s + f[0].cost, 0));
  let front: Point[] = [{ cost: 0, lp: 0, trail: null }];
  groups.forEach((f, g) => {
    const next: Point[] = [];
    for (const a of front) {
      for (const b of f) {
        if (a.cost + b.cost + minAfter[g] > capacity) break; // f is cost-ascending
        next.push({ cost: a.cost + b.cost, lp: a.lp + b.lp, trail: { ...b.trail!, prev: a.trail } });
      }
    }
    front = pareto(next);
  });
  return front.length ? front[front.length - 1] : null;
}

/** The cheapest cell's branch cost on a site (or sum of sites) with weights w (per block: the two cheapest distinct inputs). */
export function cheapestCell(blocks: number, w: Weights): number {
  let total = 0;
  for (let i = 0; i < blocks; i++) {
    const perEdge = cellInputsOf(i).map((_, j) => Math.min(...OPS.map((o) => w[j < 2 ? 0 : 1][o]))).sort((a, b) => a - b);
    total += perEdge[0] + perEdge[1];
  }
  return total;
}

/** The cells a trail picks: `layers` cells (1 for a shared cell) of `blocks` blocks. */
function cellsFromTrail(trail: Trail | null, layers: number, blocks: number): CellGenotype[] {
  const out = Array.from({ length: layers }, () => new Array<CellGenotype['blocks'][number]>(blocks));
  for (let t = trail; t; t = t.prev) {
    const [j1, o1, j2, o2] = t.picks;
    const inputs = cellInputsOf(t.block);
    out[t.layer][t.block] = [{ input: inputs[j1], op: PRIMITIVES[o1] as CellOpName }, { input: inputs[j2], op: PRIMITIVES[o2] as CellOpName }];
  }
  return out.map((b) => ({ blocks: b }));
}

/** Log of the product of alphaHat over a cell's 2B branches. */
export function cellLogProb(logAlpha: number[][], cell: CellGenotype): number {
  return cell.blocks.reduce((s, block, i) => s + block.reduce((t, br) => t + logAlpha[edgeIndex(i, cellInputsOf(i).indexOf(br.input))][PRIMITIVES.indexOf(br.op)], 0), 0);
}

/** The best cells within a capacity: their branch cost, log-probability, and the cell (shared) or the cells (per layer). */
export interface CellChoice {
  cost: number;
  lp: number;
  cells: CellGenotype | CellGenotype[];
}

/**
 * What the path search carries for the cells along a path prefix (A), how a
 * layer's site adds to it, a lower bound of the cells' branch cost (exact for
 * the cheapest cells), and the best cells within a capacity at a full path.
 */
export interface CellSpace<A> {
  readonly empty: A;
  add(acc: A, w: Weights): A;
  cheapest(acc: A): number;
  best(acc: A, capacity: number): CellChoice | null;
}

/** One cell for every layer: the sites' weights are summed (logAlpha: [edge][op]; omitted when only costs are asked). */
export function sharedCell(blocks: number, logAlpha?: number[][]): CellSpace<Weights> {
  return {
    empty: zeroWeights(),
    add: addWeights,
    cheapest: (w) => cheapestCell(blocks, w),
    best(w, capacity) {
      const p = knapsack(Array.from({ length: blocks }, (_, i) => blockFront(logAlpha!, w, i, 0)), capacity);
      return p && { cost: p.cost, lp: p.lp, cells: cellsFromTrail(p.trail, 1, blocks)[0] };
    },
  };
}

/** The weights of each layer's site so far, and the sum of their cheapest cells. */
interface LayerSites { sites: readonly Weights[]; cheapest: number }

/** One cell per layer (logAlpha: [layer][edge][op]): the (layer, block) groups are separable. */
export function cellPerLayer(blocks: number, logAlpha?: number[][][]): CellSpace<LayerSites> {
  return {
    empty: { sites: [], cheapest: 0 },
    add: (acc, w) => ({ sites: [...acc.sites, w], cheapest: acc.cheapest + cheapestCell(blocks, w) }),
    cheapest: (acc) => acc.cheapest,
    best(acc, capacity) {
      const groups = acc.sites.flatMap((w, l) => Array.from({ length: blocks }, (_, i) => blockFront(logAlpha![l], w, i, l)));
      const p = knapsack(groups, capacity);
      return p && { cost: p.cost, lp: p.lp, cells: cellsFromTrail(p.trail, acc.sites.length, blocks) };
    },
  };
}
