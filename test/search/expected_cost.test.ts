/** Expected cost under the relaxed architecture: exact for one-hot alpha/beta, the expectation over paths, its gradient. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { MultiAddsTable, networkCost } from '../../src/arch/cost_table';
import { CellGenotype, Genotype, Level } from '../../src/arch/genotype';
import { PRIMITIVE_INDEX, PRIMITIVES, ZERO } from '../../src/arch/primitives';
import { edgeIndex, inputIndex, numEdges } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { countCost } from '../../src/model/cost';
import { buildModel } from '../../src/model/presets';
import { expectedCost } from '../../src/search/expected_cost';
import { jsRandom } from '../helpers';
import { randomBeta, randomCell, randomPath } from '../arch/random_genotype';

/** alpha one-hot on the genotype: each kept edge on its op, every other edge on zero. */
function oneHotAlpha(cell: CellGenotype): number[][] {
  const rows = Array.from({ length: numEdges(cell.blocks.length) }, () => PRIMITIVES.map((_, o) => (o === ZERO ? 1 : 0)));
  cell.blocks.forEach((block, i) => block.forEach((br) => {
    rows[edgeIndex(i, inputIndex(br.input))] = PRIMITIVES.map((_, o) => (o === PRIMITIVE_INDEX[br.op] ? 1 : 0));
  }));
  return rows;
}

/** beta one-hot on a path; rows off the path keep random values (they carry no probability). */
function oneHotBeta(trellis: NetworkTrellis, path: readonly number[], seed: number): number[][][] {
  const beta = randomBeta(trellis, seed);
  path.forEach((k, l) => {
    const from = l === 0 ? 0 : path[l - 1];
    beta[l][from] = [-1, 0, 1].map((d) => (from + d === k ? 1 : 0));
  });
  return beta;
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

const table = (blocks: number, F: number, size: [number, number], classes = 19) => new MultiAddsTable({ filterMultiplier: F, blocks, numClasses: classes, size });

describe('expected cost (relaxed architecture)', () => {
  it('one-hot alpha and beta of a genotype: equals cost\'s count of that network exactly', () => {
    for (let seed = 0; seed < 6; seed++) {
      const L = 4 + seed;
      const blocks = 2 + (seed % 4);
      const g: Genotype = { version: 1, cell: randomCell(blocks, seed), path: randomPath(L, seed + 7) };
      const t = table(blocks, 4 + seed, [64 + 13 * seed, 96 - 5 * seed], 5 + seed);
      const e = expectedCost(oneHotAlpha(g.cell), oneHotBeta(new NetworkTrellis(L), g.path, seed), new NetworkTrellis(L), t);
      const m = buildModel({ genotype: g, filterMultiplier: 4 + seed, numClasses: 5 + seed });
      assert.equal(e.value, countCost(m, 64 + 13 * seed, 96 - 5 * seed).multiAdds, JSON.stringify(g));
      m.weights.dispose();
    }
  });

  it('mixed beta: the expectation over every path of its exact cost (brute force), one-hot alpha', () => {
    for (let seed = 0; seed < 4; seed++) {
      const trellis = new NetworkTrellis(5 + seed);
      const cell = randomCell(3, seed + 20);
      const t = table(3, 8, [100, 77]);
      const beta = randomBeta(trellis, seed + 30);
      const expected = allPaths(trellis).reduce((s, path) => {
        const p = path.reduce((q: number, k, l) => q * beta[l][l === 0 ? 0 : path[l - 1]][k - (l === 0 ? 0 : path[l - 1]) + 1], 1);
        return s + p * networkCost(t, cell, path);
      }, 0);
      const got = expectedCost(oneHotAlpha(cell), beta, trellis, t).value;
      assert.ok(Math.abs(got / expected - 1) < 1e-12, `${got} vs ${expected}`);
    }
  });

  it('gradients match central finite differences (alpha and beta entries)', () => {
    const trellis = new NetworkTrellis(5);
    const t = table(3, 4, [48, 40], 3);
    const r = jsRandom(5);
    const alpha = Array.from({ length: numEdges(3) }, () => PRIMITIVES.map(() => 0.05 + r()));
    const beta = randomBeta(trellis, 6);
    const e = expectedCost(alpha, beta, trellis, t);
    const fd = (bump: (h: number) => void) => {
      const h = 1e-4;
      bump(h);
      const up = expectedCost(alpha, beta, trellis, t).value;
      bump(-2 * h);
      const down = expectedCost(alpha, beta, trellis, t).value;
      bump(h);
      return (up - down) / (2 * h);
    };
    const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(b) + 1e-2, `${what}: ${a} vs ${b}`);
    alpha.forEach((row, i) => row.forEach((_, o) => close(e.dAlpha[i][o], fd((h) => (alpha[i][o] += h)), `alpha[${i}][${o}]`)));
    beta.forEach((rows, l) => rows.forEach((row, k) => row.forEach((v, d) => {
      if (v > 0) close(e.dBeta[l][k][d], fd((h) => (beta[l][k][d] += h)), `beta[${l}][${k}][${d}]`);
    })));
  });
});
