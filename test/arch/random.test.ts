/**
 * Uniform sampling of architectures, checked against brute-force enumeration
 * of a tiny space: every element appears, none outside it, and the counts pass
 * a chi-square test that a per-step random walk over the trellis fails.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { Rng } from '../../src/util/random';
import { Level } from '../../src/arch/genotype';
import { validateGenotype } from '../../src/arch/genotype_file';
import { CellOpName } from '../../src/arch/primitives';
import { cellInputsOf } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { pathCompletions, sampleCell, sampleGenotype, samplePath } from '../../src/arch/random';
import { CELL_OPS } from '../../src/arch/primitives';

/** Every path of the trellis, by plain recursion (each step moves at most one level, within 0..levels-1). */
function allPaths(layers: number, levels = 4): Level[][] {
  const out: Level[][] = [];
  const walk = (prefix: Level[], from: number) => {
    if (prefix.length === layers) return void out.push(prefix);
    for (const k of [from - 1, from, from + 1]) if (k >= 0 && k < levels && k <= prefix.length + 1) walk([...prefix, k as Level], k);
  };
  walk([], 0);
  return out;
}

/** Every cell: per block an unordered pair of distinct inputs and an op per branch. */
function allCells(blocks: number, ops: readonly CellOpName[]): string[] {
  let cells: string[][] = [[]];
  for (let i = 0; i < blocks; i++) {
    const inputs = cellInputsOf(i);
    const choices: string[] = [];
    for (let a = 0; a < inputs.length; a++) for (let b = a + 1; b < inputs.length; b++) {
      for (const oa of ops) for (const ob of ops) choices.push(`${oa}(${inputs[a]})+${ob}(${inputs[b]})`);
    }
    cells = cells.flatMap((c) => choices.map((x) => [...c, x]));
  }
  return cells.map((c) => c.join(' | '));
}

/** Pearson's chi-square statistic of observed counts against a uniform distribution over `space`. */
function chiSquare(counts: Map<string, number>, space: string[], n: number): number {
  const expected = n / space.length;
  return space.reduce((s, k) => s + ((counts.get(k) ?? 0) - expected) ** 2 / expected, 0);
}

/** A loose upper bound on chi-square with df degrees of freedom (mean df, sd sqrt(2 df); 5 sd). */
const chiBound = (df: number) => df + 5 * Math.sqrt(2 * df);

function tally(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

describe('random architectures', () => {
  it('path counts by dynamic programming equal brute-force enumeration and the trellis count', () => {
    for (const L of [1, 2, 3, 5, 8, 12]) {
      const t = new NetworkTrellis(L);
      const c = pathCompletions(t);
      assert.equal(c[0][0] + c[0][1], allPaths(L).length, `L=${L}`);
      assert.equal(allPaths(L).length, t.countPaths(), `L=${L}`);
    }
  });

  it('paths are uniform over every valid path (a per-step random walk is not)', () => {
    const L = 5;
    const space = allPaths(L).map((p) => p.join(''));
    const n = space.length * 200;
    const rng = new Rng(1);
    const sampled = Array.from({ length: n }, () => samplePath(rng, L).join(''));
    const counts = tally(sampled);
    assert.deepEqual([...counts.keys()].filter((k) => !space.includes(k)), [], 'a sample outside the space');
    assert.equal(counts.size, space.length, 'every path is drawn');
    assert.ok(chiSquare(counts, space, n) < chiBound(space.length - 1), `chi-square ${chiSquare(counts, space, n)}`);
    // The oracle can fail: a walk choosing each step uniformly among its arrows.
    const t = new NetworkTrellis(L);
    const walk = () => {
      let from = 0;
      return Array.from({ length: L }, (_, l) => {
        const arrows = t.arrowsFrom(l, from);
        from = arrows[rng.int(arrows.length)].to;
        return from;
      }).join('');
    };
    const walked = tally(Array.from({ length: n }, walk));
    assert.ok(chiSquare(walked, space, n) > chiBound(space.length - 1), 'the random walk should fail the uniformity test');
  });

  it('cells are uniform over input pairs and ops (brute force on 2 blocks and 2 ops)', () => {
    const ops: CellOpName[] = ['skip', 'sep3x3'];
    const space = allCells(2, ops);
    assert.equal(space.length, (1 * 4) * (3 * 4));
    const rng = new Rng(2);
    const n = space.length * 300;
    const key = (blocks: ReturnType<typeof sampleCell>) => blocks.map((b) => `${b[0].op}(${b[0].input})+${b[1].op}(${b[1].input})`).join(' | ');
    const counts = tally(Array.from({ length: n }, () => key(sampleCell(rng, 2, ops))));
    assert.deepEqual([...counts.keys()].filter((k) => !space.includes(k)), [], 'a sample outside the space');
    assert.equal(counts.size, space.length);
    assert.ok(chiSquare(counts, space, n) < chiBound(space.length - 1), `chi-square ${chiSquare(counts, space, n)}`);
  });

  it('every sampled genotype is valid, uses no zero op, and is deterministic by seed', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    for (let i = 0; i < 200; i++) {
      const g = sampleGenotype(a, { blocks: 5, layers: 12 });
      assert.deepEqual(validateGenotype(JSON.parse(JSON.stringify(g))), g);
      for (const blk of g.cell!.blocks) {
        assert.notEqual(blk[0].input, blk[1].input);
        for (const br of blk) assert.ok(CELL_OPS.includes(br.op));
      }
      assert.deepEqual(sampleGenotype(b, { blocks: 5, layers: 12 }), g);
    }
  });
});
