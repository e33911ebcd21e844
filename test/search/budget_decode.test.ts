/** Decoding within a budget = brute force over every cell and path of small spaces; the no-fit error. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { CostTable, MultiAddsTable, networkCost, NetworkShape, Size } from '../../src/arch/cost_table';
import { BlockGenotype, CellGenotype, Level } from '../../src/arch/genotype';
import { CellOpName, PRIMITIVES } from '../../src/arch/primitives';
import { cellInputsOf, edgeIndex, numEdges } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { BudgetError, cheapestCost, decodeWithinBudget } from '../../src/search/budget_decode';
import { decodeCell, viterbiDecode } from '../../src/search/decode';
import { jsRandom } from '../helpers';
import { CELL_OPS, randomBeta } from '../arch/random_genotype';

/** A table with arbitrary positive per-pixel costs for every part (pools and skips not free), as a latency table may be. */
class RandomTable implements CostTable {
  readonly unit = 'ms';
  private readonly r: Map<string, number> = new Map();
  constructor(readonly shape: NetworkShape, private readonly seed: number) {}
  private v(key: string): number {
    if (!this.r.has(key)) this.r.set(key, jsRandom(this.seed + [...key].reduce((h, c) => h * 31 + c.charCodeAt(0), 7) % 100003)() + 0.01);
    return this.r.get(key)!;
  }
  stem() { return this.v('stem'); }
  pre(a: number, b: number, k: number, [h, w]: Size) { return h * w * this.v(`pre${a},${b},${k}`); }
  op(op: CellOpName, k: number, s: boolean, [h, w]: Size) { return h * w * this.v(`${op}${k}${s}`); }
  upsample(k: number, [h, w]: Size) { return h * w * this.v(`up${k}`); }
  aspp(k: number, [h, w]: Size) { return h * w * this.v(`aspp${k}`); }
  decoder(c: boolean) { return this.v(`dec${c}`); }
}

function allCells(blocks: number): CellGenotype[] {
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

function allPaths(trellis: NetworkTrellis): Level[][] {
  const out: Level[][] = [];
  const walk = (l: number, k: number, p: Level[]) => {
    if (l === trellis.layers) return void out.push(p);
    for (const a of trellis.arrowsFrom(l, k)) walk(l + 1, a.to, [...p, a.to as Level]);
  };
  walk(0, 0, []);
  return out;
}

function randomAlpha(blocks: number, seed: number, sharp: number): number[][] {
  const r = jsRandom(seed);
  return Array.from({ length: numEdges(blocks) }, () => {
    const e = PRIMITIVES.map(() => Math.exp(sharp * (2 * r() - 1)));
    const z = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / z);
  });
}

const cellLp = (alpha: number[][], c: CellGenotype) => c.blocks.reduce((s, b, i) => s + b.reduce((t, br) => t + Math.log(alpha[edgeIndex(i, cellInputsOf(i).indexOf(br.input))][PRIMITIVES.indexOf(br.op)]), 0), 0);
const pathLp = (beta: number[][][], p: Level[]) => p.reduce((s: number, k, l) => s + Math.log(beta[l][l === 0 ? 0 : p[l - 1]][k - (l === 0 ? 0 : p[l - 1]) + 1]), 0);

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
          for (const q of [0, 0.01, 0.1, 0.3, 0.6, 0.95]) {
            const budget = costs[Math.floor(q * (costs.length - 1))] * (1 + eps);
            const expected = all.reduce((m, a) => (a.cost <= budget && a.lp > m ? a.lp : m), -Infinity);
            const got = decodeWithinBudget(alpha, beta, trellis, table, budget);
            assert.ok(got.cost <= budget * (1 + eps), `${table.unit} q ${q}: cost ${got.cost} > ${budget}`);
            assert.equal(got.cost, networkCost(table, got.cell, got.path));
            assert.ok(Math.abs(got.logProb - expected) < 1e-9, `${table.unit} q ${q}: ${got.logProb} vs ${expected}`);
            assert.ok(Math.abs(cellLp(alpha, got.cell) + pathLp(beta, got.path) - got.logProb) < 1e-9);
          }
          assert.ok(Math.abs(cheapestCost(trellis, table) - costs[0]) <= eps * costs[0]);
          assert.throws(() => decodeWithinBudget(alpha, beta, trellis, table, costs[0] * (1 - 1e-9)), (e: Error) => {
            const named = Number(/the cheapest one costs ([0-9.e+]+)/.exec(e.message)?.[1]);
            return e instanceof BudgetError && Math.abs(named - costs[0]) <= eps * costs[0];
          });
        }
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
    assert.deepEqual({ cell: got.cell, path: got.path }, free);
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
