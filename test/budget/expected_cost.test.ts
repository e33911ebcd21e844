/** Expected cost under the relaxed architecture: exact for one-hot alpha/beta, the expectation over paths, its gradient. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { genotypeCost, MultiAddsTable } from '../../src/budget/cost_table';
import { Genotype } from '../../src/arch/genotype';
import { PRIMITIVES } from '../../src/arch/primitives';
import { numEdges } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { countCost } from '../../src/model/cost';
import { buildModel } from '../../src/model/presets';
import { alphaRows } from '../../src/search/decode';
import { expectedCost } from '../../src/budget/expected_cost';
import { jsRandom } from '../helpers';
import { randomBeta, randomCell, randomPath } from '../arch/random_genotype';
import { allPaths, oneHotAlpha, oneHotBeta, pathLp } from './budget_oracle';

const table = (blocks: number, F: number, size: [number, number], classes = 19) => new MultiAddsTable({ filterMultiplier: F, blocks, numClasses: classes, size });

/** A genotype with one cell, or (perLayer) a different random cell per layer. */
function randomGenotype(blocks: number, L: number, seed: number, perLayer: boolean): Genotype {
  const path = randomPath(L, seed + 7);
  return perLayer ? { version: 1, cells: path.map((_, l) => randomCell(blocks, seed + 100 * l)), path } : { version: 1, cell: randomCell(blocks, seed), path };
}

/** alpha one-hot on a genotype's cell ([edge][op]) or cells ([layer][edge][op]). */
const oneHotOf = (g: Genotype) => (g.cells ? g.cells.map(oneHotAlpha) : oneHotAlpha(g.cell!));

describe('expected cost (relaxed architecture)', () => {
  for (const perLayer of [false, true]) {
    const what = perLayer ? 'alpha per layer' : 'one alpha';
    it(`${what}: one-hot alpha and beta of a genotype equal cost's count of that network exactly`, () => {
      for (let seed = 0; seed < 6; seed++) {
        const L = 4 + seed;
        const blocks = 2 + (seed % 4);
        const g = randomGenotype(blocks, L, seed, perLayer);
        const t = table(blocks, 4 + seed, [64 + 13 * seed, 96 - 5 * seed], 5 + seed);
        const e = expectedCost(oneHotOf(g), oneHotBeta(new NetworkTrellis(L), g.path, seed), new NetworkTrellis(L), t);
        assert.equal(e.value, genotypeCost(t, g), JSON.stringify(g));
        const m = buildModel({ genotype: g, filterMultiplier: 4 + seed, numClasses: 5 + seed });
        assert.equal(e.value, countCost(m, 64 + 13 * seed, 96 - 5 * seed).multiAdds, JSON.stringify(g));
        m.weights.dispose();
      }
    });

    it(`${what}: mixed beta gives the expectation over every path of its exact cost (brute force), one-hot alpha`, () => {
      for (let seed = 0; seed < 4; seed++) {
        const trellis = new NetworkTrellis(5 + seed);
        const g = randomGenotype(3, trellis.layers, seed + 20, perLayer);
        const t = table(3, 8, [100, 77]);
        const beta = randomBeta(trellis, seed + 30);
        const expected = allPaths(trellis).reduce((s, path) => s + Math.exp(pathLp(beta, path)) * genotypeCost(t, { ...g, path }), 0);
        const got = expectedCost(oneHotOf(g), beta, trellis, t).value;
        assert.ok(Math.abs(got / expected - 1) < 1e-12, `${got} vs ${expected}`);
      }
    });

    it(`${what}: gradients match central finite differences (every alpha and beta entry)`, () => {
      const trellis = new NetworkTrellis(5);
      const t = table(3, 4, [48, 40], 3);
      const r = jsRandom(5);
      const rows = () => Array.from({ length: numEdges(3) }, () => PRIMITIVES.map(() => 0.05 + r()));
      const alpha = perLayer ? Array.from({ length: trellis.layers }, rows) : rows();
      const beta = randomBeta(trellis, 6);
      const e = expectedCost(alpha, beta, trellis, t);
      assert.deepEqual(shapeOf(e.dAlpha), shapeOf(alpha));
      const fd = (bump: (h: number) => void) => {
        const h = 1e-4;
        bump(h);
        const up = expectedCost(alpha, beta, trellis, t).value;
        bump(-2 * h);
        const down = expectedCost(alpha, beta, trellis, t).value;
        bump(h);
        return (up - down) / (2 * h);
      };
      const close = (a: number, b: number, at: string) => assert.ok(Math.abs(a - b) <= 1e-6 * Math.abs(b) + 1e-2, `${at}: ${a} vs ${b}`);
      // Rows of alpha and of dAlpha in the same order (per layer: layer-major); the rows are alpha's own arrays, bumped in place.
      const dRows = alphaRows(e.dAlpha);
      alphaRows(alpha).forEach((row, i) => row.forEach((_, o) => close(dRows[i][o], fd((h) => (row[o] += h)), `alpha row ${i}[${o}]`)));
      beta.forEach((rows, l) => rows.forEach((row, k) => row.forEach((v, d) => {
        if (v > 0) close(e.dBeta[l][k][d], fd((h) => (beta[l][k][d] += h)), `beta[${l}][${k}][${d}]`);
      })));
    });
  }
});

const shapeOf = (a: unknown): number[] => (Array.isArray(a) ? [a.length, ...shapeOf(a[0])] : []);
