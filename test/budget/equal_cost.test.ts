/**
 * Equal-cost random architectures (issue 20): the sampler's band holds exactly
 * the architectures that brute-force enumeration costs (genotypeCost, an
 * independent sum over every branch) within the band, and its draws are
 * uniform over them (chi-square against the enumeration), seeded and cheap.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rng } from '../../src/util/random';
import { Genotype, Level } from '../../src/arch/genotype';
import { CELL_OPS, CellOpName } from '../../src/arch/primitives';
import { cellInputsOf } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { genotypeCost, MultiAddsTable } from '../../src/budget/cost_table';
import { allPaths, equalCostSampler, equalCostSpace } from '../../src/budget/equal_cost';
import { sampleGenotype } from '../../src/arch/random';
import { BadInputError } from '../../src/util/errors';

/** Every genotype of the space: per block an unordered pair of distinct inputs and an op per branch, every path. */
function allGenotypes(blocks: number, layers: number, ops: readonly CellOpName[]): Genotype[] {
  let cells: Genotype['cell'][] = [{ blocks: [] }];
  for (let i = 0; i < blocks; i++) {
    const inputs = cellInputsOf(i);
    cells = cells.flatMap((c) => {
      const out: Genotype['cell'][] = [];
      for (let a = 0; a < inputs.length; a++) for (let b = a + 1; b < inputs.length; b++) for (const oa of ops) for (const ob of ops) {
        out.push({ blocks: [...c!.blocks, [{ input: inputs[a], op: oa }, { input: inputs[b], op: ob }]] });
      }
      return out;
    });
  }
  return allPaths(layers).flatMap((path: Level[]) => cells.map((cell) => ({ version: 1, cell, path }) as Genotype));
}

const keyOf = (g: Genotype) => JSON.stringify([g.cell, g.path]);
const chiBound = (df: number) => df + 5 * Math.sqrt(2 * df); // mean df, 5 sd of chi-square(df)

describe('equal-cost random architectures', () => {
  // Non-free ops of both kinds and two free ones (a pool, a skip that is free unless it reads a strided input).
  const ops: CellOpName[] = ['sep3x3', 'atrous5x5', 'skip', 'maxpool3x3'];
  const table = new MultiAddsTable({ filterMultiplier: 32, blocks: 2, numClasses: 3, size: [37, 29] });
  const layers = 3;
  const all = allGenotypes(2, layers, ops);
  const costs = all.map((g) => genotypeCost(table, g));
  const space = equalCostSpace(table, layers, ops);

  it('counts every cell and path of the space, and costs each class as the enumeration does', () => {
    assert.equal(space.paths.length, new NetworkTrellis(layers).countPaths());
    assert.equal(space.cellCount.reduce((a, b) => a + b, 0) * space.paths.length, all.length);
    const byClassCost = new Map<number, number>(); // cost -> architectures, from the DP
    for (let p = 0; p < space.paths.length; p++) for (let c = 0; c < space.classes.length; c++) {
      const cost = space.classes[c].reduce((s, k, j) => s + k * space.categoryCost[j][p], space.fixed[p]);
      byClassCost.set(cost, (byClassCost.get(cost) ?? 0) + space.cellCount[c]);
    }
    const brute = new Map<number, number>();
    for (const c of costs) brute.set(c, (brute.get(c) ?? 0) + 1);
    assert.deepEqual([...byClassCost].sort((a, b) => a[0] - b[0]), [...brute].sort((a, b) => a[0] - b[0]));
  });

  it('draws uniformly over the architectures within the band (chi-square against enumeration)', () => {
    const target = [...costs].sort((a, b) => a - b)[Math.floor(costs.length * 0.6)];
    const band = 0.004; // ~120 of the 9,984 architectures: the stem and head dominate this tiny network's cost
    const inBand = all.filter((_, i) => Math.abs(costs[i] - target) <= band * target).map(keyOf);
    assert.ok(inBand.length > 20 && inBand.length < all.length / 2, `${inBand.length} in band`);
    const sampler = equalCostSampler(space, target, band);
    assert.equal(sampler.count, inBand.length);
    const rng = new Rng(3);
    const n = inBand.length * 40;
    const counts = new Map<string, number>();
    for (let i = 0; i < n; i++) {
      const g = sampler.draw(rng);
      const cost = genotypeCost(table, g);
      assert.ok(Math.abs(cost - target) <= band * target, `drawn cost ${cost} outside the band around ${target}`);
      counts.set(keyOf(g), (counts.get(keyOf(g)) ?? 0) + 1);
    }
    assert.equal(counts.size, inBand.length, 'every architecture in the band is drawn');
    const expected = n / inBand.length;
    const chi = inBand.reduce((s, k) => s + ((counts.get(k) ?? 0) - expected) ** 2 / expected, 0);
    assert.ok(chi < chiBound(inBand.length - 1), `chi-square ${chi.toFixed(1)}, df ${inBand.length - 1}`);
    // The oracle can fail: the plain uniform draw leaves the band.
    const plain = new Rng(3);
    const outside = Array.from({ length: 200 }, () => sampleGenotype(plain, { blocks: 2, layers }, ops)).filter((g) => Math.abs(genotypeCost(table, g) - target) > band * target);
    assert.ok(outside.length > 0, 'the uniform draw leaves the band');
  });

  it('an empty band is a BadInputError naming --cost-band and the nearest cost', () => {
    const cheapest = Math.min(...costs);
    assert.throws(() => equalCostSampler(space, cheapest * 0.5, 0.05), (e: Error) => e instanceof BadInputError && /--cost-band/.test(e.message) && /nearest/.test(e.message));
  });

  it('at the quickstart shape (B = 5, L = 8, all ops) a draw is within the band and deterministic by seed', () => {
    const t = new MultiAddsTable({ filterMultiplier: 8, blocks: 5, numClasses: 6, size: [64, 64] });
    const s = equalCostSpace(t, 8);
    const target = genotypeCost(t, sampleGenotype(new Rng(5), { blocks: 5, layers: 8 }));
    const sampler = equalCostSampler(s, target, 0.05);
    const [a, b] = [new Rng(9), new Rng(9)];
    for (let i = 0; i < 5; i++) {
      const g = sampler.draw(a);
      assert.deepEqual(sampler.draw(b), g);
      assert.ok(Math.abs(genotypeCost(t, g) / target - 1) <= 0.05);
      for (const blk of g.cell!.blocks) for (const br of blk) assert.ok(CELL_OPS.includes(br.op));
    }
  });
});
