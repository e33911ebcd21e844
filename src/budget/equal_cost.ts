/**
 * Random architectures of (nearly) equal cost: uniform over every (cell, path)
 * of the space whose exact cost lies within a band around a target (issue 20;
 * the NAS baseline of Li & Talwalkar 2019 and Yu et al. 2020 asks for random
 * networks that cost what the searched one costs).
 *
 * The space is random.ts's: per block an unordered pair of distinct inputs and
 * an op per branch from `ops`, one cell for every layer, any valid path of L
 * layers. Exact uniformity without enumerating ~10^12 cells: a network's cost
 * is the path's fixed part (stem, preprocessing, head) plus, for every branch,
 * the sum over the path's sites of that branch's op cost (cost_table.ts). So
 * branches fall into categories, (op, reads a cell input) pairs with the same
 * cost at every site of every path, and a cell's cost on a path depends only
 * on its "class": how many branches fall in each non-free category. Dynamic
 * programming over the blocks counts the cells of each class; every (path,
 * class) pair is costed exactly and weighted by its count; a draw picks a pair
 * by weight, then a cell uniformly within its class (same DP, block by block).
 */
import { BadInputError } from '../util/errors';
import { Rng } from '../util/random';
import { CELL_OPS, CellOpName } from '../arch/primitives';
import { BlockBranch, BlockGenotype, Genotype, Level } from '../arch/genotype';
import { validateGenotype } from '../arch/genotype_file';
import { branchCost, CellSite, CostTable, headCost, pathSites, siteFixedCost } from './cost_table';
import { cellInputsOf, inputIndex } from '../arch/topology';
import { NetworkTrellis } from '../arch/trellis';

/** Beyond this many cell classes the table's costs are too varied for exact counting (a latency table, not Multi-Adds). */
const MAX_CLASSES = 200_000;

/** Every valid path of `layers` layers (the stem at level 0; a step moves at most one level). */
export function allPaths(layers: number, levels = 4): Level[][] {
  const t = new NetworkTrellis(layers, levels);
  const out: Level[][] = [];
  const walk = (prefix: Level[], from: number) => {
    if (prefix.length === layers) return void out.push(prefix);
    for (const a of t.arrowsFrom(prefix.length, from)) walk([...prefix, a.to as Level], a.to);
  };
  walk([], 0);
  return out;
}

/** A branch's kind: its op and whether it reads a cell input (h0, h1: strided when the cell moves coarser). */
interface BranchKind { op: CellOpName; fromInput: boolean }

/** One choice for a block: its two branches and the class increment they make. */
interface BlockChoice { branches: [BlockBranch, BlockBranch]; inc: number[] }

export interface EqualCostSpace {
  paths: Level[][];
  /** Per path: the cost without branches, and the cost of one branch of each category. */
  fixed: Float64Array;
  categoryCost: Float64Array[];
  /** Class vectors (counts per category) and how many cells have each. */
  classes: number[][];
  cellCount: number[];
  /** ways[i].get(key of v): the ways to complete blocks i.. so that they add v. */
  ways: Map<string, number>[];
  choices: BlockChoice[][];
  ops: readonly CellOpName[];
}

const key = (v: readonly number[]) => v.join(',');

/** Costs of each branch kind on each path, then the categories: kinds whose costs agree on every path. */
function branchCategories(t: CostTable, paths: Level[][], kinds: BranchKind[]) {
  const fixed = new Float64Array(paths.length);
  const kindCost = kinds.map(() => new Float64Array(paths.length));
  for (const [p, path] of paths.entries()) {
    const sites = pathSites(path, t.shape.size);
    fixed[p] = t.stem() + sites.reduce((s, site) => s + siteFixedCost(t, site), 0) + headCost(t, path, sites[sites.length - 1]);
    for (const [k, kind] of kinds.entries()) {
      kindCost[k][p] = sites.reduce((s, site: CellSite) => s + branchCost(t, site, kind.op, kind.fromInput ? 0 : 2), 0);
    }
  }
  const category: number[] = [];
  const categoryCost: Float64Array[] = [];
  for (const cost of kindCost) {
    let c = categoryCost.findIndex((x) => x.every((v, p) => v === cost[p]));
    if (c < 0) c = categoryCost.push(cost) - 1;
    category.push(c);
  }
  // A category free on every path does not move the cost: it is left out of the class vector.
  const paid = categoryCost.map((x) => x.some((v) => v !== 0));
  const index = paid.map((_, c) => paid.slice(0, c).filter(Boolean).length);
  return { fixed, categoryCost: categoryCost.filter((_, c) => paid[c]), categoryOf: (k: number) => (paid[category[k]] ? index[category[k]] : -1) };
}

/** The space of cells of `blocks` blocks and paths of `layers` layers, costed by `t` (its shape: size, F, classes, B). */
export function equalCostSpace(t: CostTable, layers: number, ops: readonly CellOpName[] = CELL_OPS): EqualCostSpace {
  const blocks = t.shape.blocks;
  const paths = allPaths(layers);
  const kinds: BranchKind[] = ops.flatMap((op) => [{ op, fromInput: true }, { op, fromInput: false }]);
  const { fixed, categoryCost, categoryOf } = branchCategories(t, paths, kinds);
  const n = categoryCost.length;
  const kindOf = (op: CellOpName, input: string) => kinds.findIndex((k) => k.op === op && k.fromInput === inputIndex(input as BlockBranch['input']) < 2);
  const choices = Array.from({ length: blocks }, (_, i) => {
    const inputs = cellInputsOf(i);
    const out: BlockChoice[] = [];
    for (let a = 0; a < inputs.length; a++) for (let b = a + 1; b < inputs.length; b++) for (const oa of ops) for (const ob of ops) {
      const branches: [BlockBranch, BlockBranch] = [{ input: inputs[a], op: oa }, { input: inputs[b], op: ob }];
      const inc = new Array(n).fill(0);
      for (const br of branches) { const c = categoryOf(kindOf(br.op, br.input)); if (c >= 0) inc[c] += 1; }
      out.push({ branches, inc });
    }
    return out;
  });
  // ways[i]: from the last block back; ways[blocks] holds the zero vector once.
  const ways: Map<string, number>[] = new Array(blocks + 1);
  ways[blocks] = new Map([[key(new Array(n).fill(0)), 1]]);
  const vectors = new Map<string, number[]>([[key(new Array(n).fill(0)), new Array(n).fill(0)]]);
  for (let i = blocks - 1; i >= 0; i--) {
    const m = new Map<string, number>();
    for (const [k, w] of ways[i + 1]) for (const c of choices[i]) {
      const v = vectors.get(k)!.map((x, j) => x + c.inc[j]);
      const kv = key(v);
      vectors.set(kv, v);
      m.set(kv, (m.get(kv) ?? 0) + w);
    }
    if (m.size > MAX_CLASSES) throw new BadInputError(`equal-cost sampling: ${m.size} cell classes under this cost table (at most ${MAX_CLASSES}); use Multi-Adds`);
    ways[i] = m;
  }
  const classes = [...ways[0].keys()].map((k) => vectors.get(k)!);
  return { paths, fixed, categoryCost, classes, cellCount: classes.map((v) => ways[0].get(key(v))!), ways, choices, ops };
}

/** Cost of the network of path p with a cell of class c (exact: integer Multi-Adds below 2^53). */
export function classCost(s: EqualCostSpace, p: number, c: number): number {
  return s.classes[c].reduce((sum, k, j) => sum + k * s.categoryCost[j][p], s.fixed[p]);
}

/** Uniform in [0, 1) with 53 random bits (one 32-bit draw cannot split totals near 10^16 finely). */
const fine = (rng: Rng) => (Math.floor(rng.next() * 2 ** 21) * 2 ** 32 + Math.floor(rng.next() * 2 ** 32)) / 2 ** 53;

export interface EqualCostSampler {
  /** Architectures (cell, path) in the band (to double precision beyond 2^53). */
  count: number;
  /** One architecture, uniform over the band. */
  draw(rng: Rng): Genotype;
}

/** Uniform over the architectures whose cost is within target x [1 - band, 1 + band]. Throws BadInputError when there is none. */
export function equalCostSampler(s: EqualCostSpace, target: number, band: number): EqualCostSampler {
  const inBand = (cost: number) => Math.abs(cost - target) <= band * target;
  const pathWeight = new Float64Array(s.paths.length);
  let nearest = Infinity;
  for (let p = 0; p < s.paths.length; p++) {
    for (let c = 0; c < s.classes.length; c++) {
      const cost = classCost(s, p, c);
      if (inBand(cost)) pathWeight[p] += s.cellCount[c];
      else if (Math.abs(cost / target - 1) < Math.abs(nearest / target - 1)) nearest = cost;
    }
  }
  const count = pathWeight.reduce((a, b) => a + b, 0);
  if (count === 0) {
    throw new BadInputError(`--cost-band: no architecture of this space costs within ${100 * band}% of the searched network's ${(target / 1e9).toFixed(3)} B Multi-Adds; ` +
      `the nearest costs ${(nearest / 1e9).toFixed(3)} B (ratio ${(nearest / target).toFixed(3)}): widen --cost-band or use --random-baseline-mode uniform`);
  }
  const pick = (weights: ArrayLike<number>, total: number, rng: Rng) => {
    let u = fine(rng) * total;
    for (let i = 0; i < weights.length; i++) if ((u -= weights[i]) < 0) return i;
    let last = weights.length - 1;
    while (weights[last] === 0) last--;
    return last;
  };
  return {
    count,
    draw(rng) {
      const p = pick(pathWeight, count, rng);
      const classWeight = s.classes.map((_, c) => (inBand(classCost(s, p, c)) ? s.cellCount[c] : 0));
      const cls = s.classes[pick(classWeight, pathWeight[p], rng)];
      return validateGenotype({ version: 1, cell: { blocks: drawCell(s, cls, rng, pick) }, path: s.paths[p] }, 'equal-cost random genotype');
    },
  };
}

/** A cell uniform among those of class `cls`: block by block, each choice weighted by its completions. */
function drawCell(s: EqualCostSpace, cls: readonly number[], rng: Rng, pick: (w: ArrayLike<number>, total: number, rng: Rng) => number): BlockGenotype[] {
  let rest = [...cls];
  return s.choices.map((choices, i) => {
    const after = (c: BlockChoice) => rest.map((x, j) => x - c.inc[j]);
    const w = choices.map((c) => s.ways[i + 1].get(key(after(c))) ?? 0);
    const c = choices[pick(w, w.reduce((a, b) => a + b, 0), rng)];
    rest = after(c);
    return c.branches as BlockGenotype;
  });
}
