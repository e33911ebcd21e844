/**
 * Decoding within a cost budget: the most probable architecture (cell and
 * path) whose exact cost (arch/cost_table.ts) is at most the budget.
 *
 * Probability: as the unconstrained decoder reads it (Sec. 4.3). A path has
 * the product of its arrows' normalised betas (Viterbi's objective); a cell
 * has the product of alphaHat over its 2B branches (decodeCell's choice, the
 * two strongest edges per block each with its strongest non-zero op, is the
 * maximum of this product). The decoded architecture maximises the sum of
 * both log-probabilities subject to cost(cell, path) <= budget.
 *
 * Exact joint search: the cost of a cell on a path is a sum over its branches
 * of (op, reads a cell input or a block) costs summed over the path's cells,
 * so a path reduces to two per-op cost vectors w. A depth-first search over
 * the paths (arrows in order of probability) carries the prefix's fixed cost,
 * log-probability and w, and cuts a prefix when (a) its log-probability plus
 * the best completion (backward Viterbi) plus the best cell cannot beat the
 * incumbent, or (b) its cost plus the cheapest cell on it plus the cheapest
 * completion exceeds the budget. At each complete path the best cell within
 * the remaining budget is a multiple-choice knapsack over the blocks, solved
 * exactly by merging per-block Pareto fronts of (cost, log-probability).
 * When the unconstrained decode fits, it is returned as is (it is optimal).
 */
import { CellGenotype, Level } from '../arch/genotype';
import { branchCost, CellSite, CostTable, networkCost, siteFixedCost, stemState, stepCell, WalkState } from '../arch/cost_table';
import { CellOpName, PRIMITIVES, ZERO } from '../arch/primitives';
import { cellInputsOf, edgeIndex } from '../arch/topology';
import { NetworkTrellis } from '../arch/trellis';
import { BadInputError } from '../util/errors';
import { decodeCell, viterbiDecode } from './decode';

/** The cheapest architecture costs more than the budget. */
export class BudgetError extends BadInputError {}

export interface BudgetDecoded {
  cell: CellGenotype;
  path: Level[];
  cost: number;
  logProb: number;
}

const OPS = PRIMITIVES.map((_, o) => o).filter((o) => o !== ZERO);

/** Per-op cost of one branch summed over a path's cells: [reads a cell input, reads a block][primitive index]. */
type Weights = [number[], number[]];

function siteWeights(t: CostTable, site: CellSite): Weights {
  return [0, 2].map((source) => PRIMITIVES.map((op, o) => (o === ZERO ? 0 : branchCost(t, site, op as CellOpName, source)))) as Weights;
}

const addWeights = (a: Weights, b: Weights): Weights => [a[0].map((v, o) => v + b[0][o]), a[1].map((v, o) => v + b[1][o])];

interface Trail { block: number; picks: [number, number, number, number]; prev: Trail | null }
interface Point { cost: number; lp: number; trail: Trail | null }

/** Points not dominated in (lower cost, higher log-probability), cost ascending. */
function pareto<P extends { cost: number; lp: number }>(points: P[]): P[] {
  points.sort((a, b) => a.cost - b.cost || b.lp - a.lp);
  const out: P[] = [];
  for (const p of points) if (out.length === 0 || p.lp > out[out.length - 1].lp) out.push(p);
  return out;
}

/** Pareto front of block i's options: two distinct inputs j1 < j2, each with a non-zero op. */
function blockFront(logAlpha: number[][], w: Weights, i: number): Point[] {
  const edges = cellInputsOf(i).map((_, j) => pareto(OPS.map((op) => ({ cost: w[j < 2 ? 0 : 1][op], lp: logAlpha[edgeIndex(i, j)][op], op }))));
  const options: Point[] = [];
  edges.forEach((f1, j1) => edges.slice(j1 + 1).forEach((f2, d) => {
    for (const a of f1) for (const b of f2) options.push({ cost: a.cost + b.cost, lp: a.lp + b.lp, trail: { block: i, picks: [j1, a.op, j1 + 1 + d, b.op], prev: null } });
  }));
  return pareto(options);
}

/** The most probable cell whose branches cost at most `capacity` on a path with weights w, or null. */
function bestCell(logAlpha: number[][], blocks: number, w: Weights, capacity: number): Point | null {
  const fronts = Array.from({ length: blocks }, (_, i) => blockFront(logAlpha, w, i));
  const minAfter = fronts.map((_, i) => fronts.slice(i + 1).reduce((s, f) => s + f[0].cost, 0));
  let front: Point[] = [{ cost: 0, lp: 0, trail: null }];
  fronts.forEach((f, i) => {
    const next: Point[] = [];
    for (const a of front) {
      for (const b of f) {
        if (a.cost + b.cost + minAfter[i] > capacity) break; // f is cost-ascending
        next.push({ cost: a.cost + b.cost, lp: a.lp + b.lp, trail: { ...b.trail!, prev: a.trail } });
      }
    }
    front = pareto(next);
  });
  return front.length ? front[front.length - 1] : null;
}

/** The cheapest cell's branch cost on a path with weights w (per block: the two cheapest distinct inputs). */
function cheapestCell(blocks: number, w: Weights): number {
  let total = 0;
  for (let i = 0; i < blocks; i++) {
    const perEdge = cellInputsOf(i).map((_, j) => Math.min(...OPS.map((o) => w[j < 2 ? 0 : 1][o]))).sort((a, b) => a - b);
    total += perEdge[0] + perEdge[1];
  }
  return total;
}

function cellFromTrail(trail: Trail | null, blocks: number): CellGenotype {
  const out: CellGenotype['blocks'][number][] = new Array(blocks);
  for (let t = trail; t; t = t.prev) {
    const [j1, o1, j2, o2] = t.picks;
    const inputs = cellInputsOf(t.block);
    out[t.block] = [{ input: inputs[j1], op: PRIMITIVES[o1] as CellOpName }, { input: inputs[j2], op: PRIMITIVES[o2] as CellOpName }];
  }
  return { blocks: out };
}

function cellLogProb(logAlpha: number[][], cell: CellGenotype): number {
  return cell.blocks.reduce((s, block, i) => s + block.reduce((t, br) => t + logAlpha[edgeIndex(i, cellInputsOf(i).indexOf(br.input))][PRIMITIVES.indexOf(br.op)], 0), 0);
}

/** Walk of the trellis shared by the decoder and cheapestCost: sites, weights and lower bounds of completions. */
class PathWalk {
  private readonly toGo = new Map<string, number>();
  constructor(readonly trellis: NetworkTrellis, readonly table: CostTable) {}

  /** Cost of the cell at `site` that does not depend on the cell (the decoder when it is the first one). */
  fixed(site: CellSite, l: number): number {
    return siteFixedCost(this.table, site) + (l === 0 ? this.table.decoder(site.level === 0) : 0);
  }

  /** A lower bound of the cost still to come after layer l (state s at level k): cheapest cells, fixed parts, ASPP. */
  minToGo(l: number, s: WalkState, k: number): number {
    if (l === this.trellis.layers) return this.table.aspp(k, s.size);
    const key = `${l}|${s.prev},${s.cur},${s.size}`;
    let v = this.toGo.get(key);
    if (v === undefined) {
      v = Math.min(...this.trellis.arrowsFrom(l, k).map((a) => {
        const { site, next } = stepCell(s, a.to);
        return this.fixed(site, l) + cheapestCell(this.table.shape.blocks, siteWeights(this.table, site)) + this.minToGo(l + 1, next, a.to);
      }));
      this.toGo.set(key, v);
    }
    return v;
  }
}

/** The exact cost of the cheapest architecture of the space (any cell, any path). */
export function cheapestCost(trellis: NetworkTrellis, table: CostTable): number {
  const walk = new PathWalk(trellis, table);
  const zero: Weights = [PRIMITIVES.map(() => 0), PRIMITIVES.map(() => 0)];
  let best = Infinity;
  const visit = (l: number, s: WalkState, k: number, fixed: number, w: Weights) => {
    if (fixed + cheapestCell(table.shape.blocks, w) + walk.minToGo(l, s, k) >= best) return;
    if (l === trellis.layers) return void (best = fixed + table.aspp(k, s.size) + cheapestCell(table.shape.blocks, w));
    for (const a of trellis.arrowsFrom(l, k)) {
      const { site, next } = stepCell(s, a.to);
      visit(l + 1, next, a.to, fixed + walk.fixed(site, l), addWeights(w, siteWeights(table, site)));
    }
  };
  visit(0, stemState(table.shape.size), 0, table.stem(), zero);
  return best;
}

/** alphaHat, betaHat: as Supernet.snapshot() gives them. budget: in the table's unit. */
export function decodeWithinBudget(alphaHat: number[][], betaHat: number[][][], trellis: NetworkTrellis, table: CostTable, budget: number): BudgetDecoded {
  const blocks = table.shape.blocks;
  const logAlpha = alphaHat.map((r) => r.map(Math.log));
  const free = { cell: decodeCell(alphaHat, blocks), ...viterbiDecode(betaHat, trellis) };
  const maxCell = cellLogProb(logAlpha, free.cell);
  const freeCost = networkCost(table, free.cell!, free.path);
  if (freeCost <= budget) return { cell: free.cell, path: free.path, cost: freeCost, logProb: maxCell + free.logProb };
  // suffix[l][k]: the best log-probability of the arrows of layers l.. from node (l - 1, k) (backward Viterbi).
  const L = trellis.layers;
  const suffix = Array.from({ length: L + 1 }, () => new Array<number>(trellis.levels).fill(0));
  for (let l = L - 1; l >= 0; l--) {
    for (const k of trellis.levelsAt(l - 1)) suffix[l][k] = Math.max(...trellis.arrowsFrom(l, k).map((a) => Math.log(betaHat[l][k][a.dir + 1]) + suffix[l + 1][a.to]));
  }
  const walk = new PathWalk(trellis, table);
  let best: BudgetDecoded | null = null;
  const path: Level[] = [];
  const visit = (l: number, s: WalkState, k: number, lp: number, fixed: number, w: Weights) => {
    if (best && lp + suffix[l][k] + maxCell <= best.logProb) return;
    if (fixed + cheapestCell(blocks, w) + walk.minToGo(l, s, k) > budget) return;
    if (l === L) {
      const total = fixed + table.aspp(k, s.size);
      const cell = bestCell(logAlpha, blocks, w, budget - total);
      if (cell && (!best || lp + cell.lp > best.logProb)) best = { cell: cellFromTrail(cell.trail, blocks), path: [...path], cost: total + cell.cost, logProb: lp + cell.lp };
      return;
    }
    const arrows = trellis.arrowsFrom(l, k).sort((a, b) => betaHat[l][k][b.dir + 1] - betaHat[l][k][a.dir + 1]);
    for (const a of arrows) {
      const { site, next } = stepCell(s, a.to);
      path.push(a.to as Level);
      visit(l + 1, next, a.to, lp + Math.log(betaHat[l][k][a.dir + 1]), fixed + walk.fixed(site, l), addWeights(w, siteWeights(table, site)));
      path.pop();
    }
  };
  visit(0, stemState(table.shape.size), 0, 0, table.stem(), [PRIMITIVES.map(() => 0), PRIMITIVES.map(() => 0)]);
  const found = best as BudgetDecoded | null; // assigned in visit()
  if (!found) {
    const unit = table.unit === 'ms' ? ' ms' : ' Multi-Adds';
    throw new BudgetError(`budget: no architecture of this search space fits the budget of ${budget}${unit}; the cheapest one costs ${cheapestCost(trellis, table)}${unit}`);
  }
  // The cost as networkCost sums it (the search's sum differs only in the order of additions).
  return { ...found, cost: networkCost(table, found.cell, found.path) };
}
