/** Decoding within a budget = brute force over every cell (or cell per layer) and path of small spaces; the no-fit error. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CostTable, genotypeCost, MultiAddsTable, networkCost, NetworkShape } from '../../src/budget/cost_table';
import { CellGenotype, Genotype } from '../../src/arch/genotype';
import { NetworkTrellis } from '../../src/arch/trellis';
import { BudgetDecoded, BudgetError, cheapestCost, decodeWithinBudget } from '../../src/budget/constrained_decode';
import { decodeCell, viterbiDecode } from '../../src/search/decode';
import { randomBeta } from '../arch/random_genotype';
import { allCells, allPaths, cellLp, genotypeLp, pathLp, randomAlpha, RandomTable } from './budget_oracle';

/**
 * The decoder against an oracle at budgets from the cheapest architecture to
 * loose ones: `best(budget)` is the oracle's best log-probability within it,
 * `costs` every achievable cost, ascending; eps: a relative margin for tables
 * of real numbers (summation order).
 */
function checkAgainst(decode: (budget: number) => BudgetDecoded, lp: (g: Genotype) => number, table: CostTable, costs: number[], best: (budget: number) => number, cheapest: number, eps: number, what: string) {
  for (const q of [0, 0.01, 0.1, 0.3, 0.6, 0.95]) {
    const budget = costs[Math.floor(q * (costs.length - 1))] * (1 + eps);
    const got = decode(budget);
    assert.ok(got.cost <= budget * (1 + eps), `${what} q ${q}: cost ${got.cost} > ${budget}`);
    assert.equal(got.cost, genotypeCost(table, got.genotype));
    assert.ok(Math.abs(got.logProb - best(budget)) < 1e-9, `${what} q ${q}: ${got.logProb} vs ${best(budget)}`);
    assert.ok(Math.abs(lp(got.genotype) - got.logProb) < 1e-9);
  }
  assert.ok(Math.abs(cheapest - costs[0]) <= eps * costs[0], `${what}: cheapest ${cheapest} vs ${costs[0]}`);
  assert.throws(() => decode(costs[0] * (1 - 1e-9)), (e: Error) => {
    const named = Number(/the cheapest one costs ([0-9.e+]+)/.exec(e.message)?.[1]);
    return e instanceof BudgetError && Math.abs(named - costs[0]) <= eps * costs[0];
  });
}

/**
 * Every (path, one cell per layer) of a small space, by exact cost: for each
 * path and layer, every cell's cost there (networkCost with that cell at layer
 * l and a reference cell elsewhere, minus the reference network) and
 * log-probability; then the layers combined exhaustively, equal costs merged
 * keeping the most probable (exact: nothing else is compared). Returns the
 * best log-probability of each achievable total cost. Needs costs that are
 * exact integers (sums exact in any order, and equal often enough to merge).
 */
function perLayerOracle(table: CostTable, trellis: NetworkTrellis, alpha: number[][][], beta: number[][][], cells: CellGenotype[]): Map<number, number> {
  const out = new Map<number, number>();
  const keepBest = (m: Map<number, number>, cost: number, lp: number) => { if (!(m.get(cost)! >= lp)) m.set(cost, lp); };
  for (const path of allPaths(trellis)) {
    const ref = new Array<CellGenotype>(path.length).fill(cells[0]);
    const base = networkCost(table, ref, path);
    const delta = (c: CellGenotype, l: number) => networkCost(table, ref.map((r, j) => (j === l ? c : r)), path) - base;
    const layers = path.map((_, l) => {
      const m = new Map<number, number>();
      for (const c of cells) keepBest(m, delta(c, l), cellLp(alpha[l], c));
      return m;
    });
    // The oracle's premise, checked on one mixed choice per path: a layer's cell changes only its own cost.
    const mixed = path.map((_, l) => cells[(977 * (l + 1) + path.length) % cells.length]);
    assert.equal(networkCost(table, mixed, path), base + mixed.reduce((s, c, l) => s + delta(c, l), 0));
    let sums = new Map<number, number>([[base, pathLp(beta, path)]]);
    for (const m of layers) {
      const next = new Map<number, number>();
      for (const [c0, lp0] of sums) for (const [c1, lp1] of m) keepBest(next, c0 + c1, lp0 + lp1);
      sums = next;
    }
    for (const [c, lp] of sums) keepBest(out, c, lp);
  }
  return out;
}

describe('decoding within a budget (exact joint search over cell and path)', () => {
  const cells = allCells(2);
  const tables = (seed: number): CostTable[] => {
    const shape: NetworkShape = { filterMultiplier: 4 + seed, blocks: 2, numClasses: 3, size: [40 + 7 * seed, 56 - 3 * seed] };
    return [new MultiAddsTable(shape), new RandomTable(shape, seed)];
  };
  for (let L = 1; L <= 4; L++) {
    it(`equals brute force over ${cells.length} cells x every path, L = ${L}, Multi-Adds and a random table`, () => {
      const trellis = new NetworkTrellis(L);
      const paths = allPaths(trellis);
      for (let seed = 0; seed < (L <= 2 ? 3 : 1); seed++) {
        const alpha = randomAlpha(2, 10 * L + seed, 1 + seed);
        const beta = randomBeta(trellis, 20 * L + seed, 1 + seed);
        for (const table of tables(seed + L)) {
          const all = paths.flatMap((p) => cells.map((c) => ({ cost: networkCost(table, c, p), lp: cellLp(alpha, c) + pathLp(beta, p) })));
          const costs = all.map((a) => a.cost).sort((a, b) => a - b);
          // Multi-Adds are integers (sums exact in any order); a table of real numbers gets a 1e-12 margin for summation order.
          const eps = table.unit === 'ms' ? 1e-12 : 0;
          const best = (budget: number) => all.reduce((m, a) => (a.cost <= budget && a.lp > m ? a.lp : m), -Infinity);
          checkAgainst((b) => decodeWithinBudget(alpha, beta, trellis, table, b), (g) => genotypeLp(alpha, beta, g), table, costs, best, cheapestCost(trellis, table), eps, table.unit);
        }
      }
    });
  }

  for (let L = 2; L <= 4; L++) {
    it(`alpha per layer: equals an exhaustive oracle over ${cells.length} cells per layer x every path, L = ${L}, Multi-Adds and an integer random table`, () => {
      const trellis = new NetworkTrellis(L);
      const shape: NetworkShape = { filterMultiplier: 1 + (L % 2), blocks: 2, numClasses: 3, size: [14 + L, 18 - L] };
      for (const table of [new MultiAddsTable(shape), new RandomTable(shape, L, true)]) {
        const alpha = Array.from({ length: L }, (_, l) => randomAlpha(2, 40 * L + l, 1 + l));
        const beta = randomBeta(trellis, 50 * L, 1.5);
        const oracle = perLayerOracle(table, trellis, alpha, beta, cells);
        const costs = [...oracle.keys()].sort((a, b) => a - b);
        const best = (budget: number) => Math.max(...[...oracle].filter(([c]) => c <= budget).map(([, lp]) => lp));
        checkAgainst((b) => decodeWithinBudget(alpha, beta, trellis, table, b), (g) => genotypeLp(alpha, beta, g), table, costs, best, cheapestCost(trellis, table, true), 0, `${table.unit} L ${L}`);
      }
    });
  }

  it('a budget the unconstrained decode fits returns exactly decodeCell and Viterbi', () => {
    const trellis = new NetworkTrellis(12);
    const alpha = randomAlpha(5, 3, 2);
    const beta = randomBeta(trellis, 4);
    const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 5, numClasses: 19, size: [1024, 2048] });
    const free = { cell: decodeCell(alpha, 5), path: viterbiDecode(beta, trellis).path };
    const got = decodeWithinBudget(alpha, beta, trellis, table, networkCost(table, free.cell, free.path));
    assert.deepEqual(got.genotype, { version: 1, ...free });
  });

  it('L = 12, B = 5, F = 20 at 1024x2048: 250 B met in seconds; 200 B is below the cheapest network (stem + decoder alone: 200.3 B)', () => {
    const trellis = new NetworkTrellis(12);
    const table = new MultiAddsTable({ filterMultiplier: 20, blocks: 5, numClasses: 19, size: [1024, 2048] });
    assert.ok(table.stem() + table.decoder(true) > 200e9);
    for (const sharp of [0.01, 2]) {
      const [alpha, beta] = [randomAlpha(5, 7, sharp), randomBeta(trellis, 8, sharp)];
      const t0 = Date.now();
      const got = decodeWithinBudget(alpha, beta, trellis, table, 250e9);
      assert.ok(got.cost <= 250e9 && got.cost > 240e9, `${got.cost}`);
      assert.ok(Date.now() - t0 < 60_000, `${Date.now() - t0} ms`);
      assert.throws(() => decodeWithinBudget(alpha, beta, trellis, table, 200e9), /the cheapest one costs 2199/);
    }
  });
});
