/**
 * Decoding within a cost budget: the most probable architecture (cell and
 * path) whose exact cost (cost_table.ts) is at most the budget.
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
 *
 * Alpha per layer: the cells' log-probability is the sum of each layer's
 * cell's; the bounds use the best and the cheapest cell of each layer, and at
 * a complete path the knapsack runs over the (layer, block) groups
 * (cell_knapsack.ts).
 */
import { CellGenotype, Genotype, Level } from '../arch/genotype';
import { CellSite, CostTable, genotypeCost, siteFixedCost, stemState, stepCell, WalkState } from './cost_table';
import { NetworkTrellis } from '../arch/trellis';
import { BadInputError } from '../util/errors';
import { CellSpace, cellLogProb, cellPerLayer, cheapestCell, sharedCell, siteWeights } from './cell_knapsack';
import { decodeCell, decodeCells, isPerLayer, viterbiDecode } from '../search/decode';

/** The cheapest architecture costs more than the budget. */
export class BudgetError extends BadInputError {}

/** A genotype (one cell, or one cell per layer with alpha per layer), its exact cost and log-probability. */
export interface BudgetDecoded {
  genotype: Genotype;
  cost: number;
  logProb: number;
}

/** Walk of the trellis shared by the decoder and cheapestCost: sites, weights and lower bounds of completions. */
class PathWalk {
  private readonly toGo = new Map<string, number>();
  constructor(readonly trellis: NetworkTrellis, readonly table: CostTable) {}

  /** Cost of the cell at `site` that does not depend on the cell (the decoder when it is the first one). */
  fixed(site: CellSite, l: number): number {
    return siteFixedCost(this.table, site) + (l === 0 ? this.table.decoder(site.level === 0) : 0);
  }

  /**
   * A lower bound of the cost still to come after layer l (state s at level k):
   * the cheapest cell at each site, fixed parts, ASPP. Valid for a shared cell
   * too (its cheapest cost on a path is at least the sum of each site's).
   */
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

/** The exact cost of the cheapest architecture of the space (any cell, or any cell per layer with perLayer; any path). */
export function cheapestCost(trellis: NetworkTrellis, table: CostTable, perLayer = false): number {
  const walk = new PathWalk(trellis, table);
  // Cells per layer: the cheapest cell at every site, which minToGo already is.
  if (perLayer) return table.stem() + walk.minToGo(0, stemState(table.shape.size), 0);
  const cells = sharedCell(table.shape.blocks);
  let best = Infinity;
  const visit = (l: number, s: WalkState, k: number, fixed: number, acc: typeof cells.empty) => {
    if (fixed + cells.cheapest(acc) + walk.minToGo(l, s, k) >= best) return;
    if (l === trellis.layers) return void (best = fixed + table.aspp(k, s.size) + cells.cheapest(acc));
    for (const a of trellis.arrowsFrom(l, k)) {
      const { site, next } = stepCell(s, a.to);
      visit(l + 1, next, a.to, fixed + walk.fixed(site, l), cells.add(acc, siteWeights(table, site)));
    }
  };
  visit(0, stemState(table.shape.size), 0, table.stem(), cells.empty);
  return best;
}

/** alphaHat ([edge][op], or [layer][edge][op] per layer), betaHat: as Supernet.snapshot() gives them. budget: in the table's unit. */
export function decodeWithinBudget(alphaHat: number[][] | number[][][], betaHat: number[][][], trellis: NetworkTrellis, table: CostTable, budget: number): BudgetDecoded {
  const blocks = table.shape.blocks;
  const path = viterbiDecode(betaHat, trellis);
  let free: BudgetDecoded;
  let found: BudgetDecoded | null;
  if (isPerLayer(alphaHat)) {
    if (alphaHat.length !== trellis.layers) throw new RangeError(`decodeWithinBudget: alpha per layer has ${alphaHat.length} layers, the trellis ${trellis.layers}`);
    const logAlpha = alphaHat.map((rows) => rows.map((r) => r.map(Math.log)));
    const cells = decodeCells(alphaHat, blocks);
    const maxLp = cells.reduce((s, c, l) => s + cellLogProb(logAlpha[l], c), 0);
    free = withCost(table, { version: 1, cells, path: path.path }, maxLp + path.logProb);
    found = free.cost <= budget ? free : searchPaths(betaHat, trellis, table, budget, cellPerLayer(blocks, logAlpha), maxLp);
  } else {
    const logAlpha = alphaHat.map((r) => r.map(Math.log));
    const cell = decodeCell(alphaHat, blocks);
    const maxLp = cellLogProb(logAlpha, cell);
    free = withCost(table, { version: 1, cell, path: path.path }, maxLp + path.logProb);
    found = free.cost <= budget ? free : searchPaths(betaHat, trellis, table, budget, sharedCell(blocks, logAlpha), maxLp);
  }
  if (!found) {
    const unit = table.unit === 'ms' ? ' ms' : ' Multi-Adds';
    throw new BudgetError(`budget: no architecture of this search space fits the budget of ${budget}${unit}; the cheapest one costs ${cheapestCost(trellis, table, isPerLayer(alphaHat))}${unit}`);
  }
  return found;
}

/** The cost as genotypeCost sums it (the search's sum differs only in the order of additions). */
function withCost(table: CostTable, g: Genotype, logProb: number): BudgetDecoded {
  return { genotype: g, cost: genotypeCost(table, g), logProb };
}

/** The depth-first search over paths (see the file's comment); null when nothing fits. maxLp: the best cells' log-probability. */
function searchPaths<A>(betaHat: number[][][], trellis: NetworkTrellis, table: CostTable, budget: number, cells: CellSpace<A>, maxLp: number): BudgetDecoded | null {
  // suffix[l][k]: the best log-probability of the arrows of layers l.. from node (l - 1, k) (backward Viterbi).
  const L = trellis.layers;
  const suffix = Array.from({ length: L + 1 }, () => new Array<number>(trellis.levels).fill(0));
  for (let l = L - 1; l >= 0; l--) {
    for (const k of trellis.levelsAt(l - 1)) suffix[l][k] = Math.max(...trellis.arrowsFrom(l, k).map((a) => Math.log(betaHat[l][k][a.dir + 1]) + suffix[l + 1][a.to]));
  }
  const walk = new PathWalk(trellis, table);
  let best: { cells: CellGenotype | CellGenotype[]; path: Level[]; logProb: number } | null = null;
  const path: Level[] = [];
  const visit = (l: number, s: WalkState, k: number, lp: number, fixed: number, acc: A) => {
    if (best && lp + suffix[l][k] + maxLp <= best.logProb) return;
    if (fixed + cells.cheapest(acc) + walk.minToGo(l, s, k) > budget) return;
    if (l === L) {
      const total = fixed + table.aspp(k, s.size);
      const c = cells.best(acc, budget - total);
      if (c && (!best || lp + c.lp > best.logProb)) best = { cells: c.cells, path: [...path], logProb: lp + c.lp };
      return;
    }
    const arrows = trellis.arrowsFrom(l, k).sort((a, b) => betaHat[l][k][b.dir + 1] - betaHat[l][k][a.dir + 1]);
    for (const a of arrows) {
      const { site, next } = stepCell(s, a.to);
      path.push(a.to as Level);
      visit(l + 1, next, a.to, lp + Math.log(betaHat[l][k][a.dir + 1]), fixed + walk.fixed(site, l), cells.add(acc, siteWeights(table, site)));
      path.pop();
    }
  };
  visit(0, stemState(table.shape.size), 0, 0, table.stem(), cells.empty);
  const found = best as { cells: CellGenotype | CellGenotype[]; path: Level[]; logProb: number } | null; // assigned in visit()
  if (!found) return null;
  const g: Genotype = Array.isArray(found.cells) ? { version: 1, cells: found.cells, path: found.path } : { version: 1, cell: found.cells, path: found.path };
  return withCost(table, g, found.logProb);
}
