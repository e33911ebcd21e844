import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { decodeCell, viterbiDecode } from '../../src/search/decode';
import { cellInputsOf, edgeIndex, inputIndex, numEdges } from '../../src/arch/topology';
import { AUTO_DEEPLAB_GENOTYPE } from '../../src/arch/genotype';
import { PRIMITIVE_INDEX, PRIMITIVES } from '../../src/arch/primitives';
import { NetworkTrellis } from '../../src/arch/trellis';
import { jsRandom } from '../helpers';

/** Softmax rows of random logits, with masked arrows at 0, as the supernet produces. */
function randomBetaHat(trellis: NetworkTrellis, seed: number): number[][][] {
  const r = jsRandom(seed);
  return Array.from({ length: trellis.layers }, (_, l) => Array.from({ length: 4 }, (_, k) => {
    const valid = [-1, 0, 1].map((d) => trellis.hasNode(l - 1, k) && trellis.hasNode(l, k + d));
    const e = valid.map((v) => (v ? Math.exp(4 * r() - 2) : 0));
    const z = e.reduce((a, b) => a + b, 0) || 1;
    return e.map((v) => v / z);
  }));
}

/** Every path from the stem, scored by its product of arrow weights. */
function bruteForce(betaHat: number[][][], trellis: NetworkTrellis): { path: number[]; prob: number } {
  let best = { path: [] as number[], prob: -1 };
  const walk = (l: number, k: number, path: number[], prob: number) => {
    if (l === trellis.layers) {
      if (prob > best.prob) best = { path: [...path], prob };
      return;
    }
    for (const a of trellis.arrowsFrom(l, k)) walk(l + 1, a.to, [...path, a.to], prob * betaHat[l][k][a.dir + 1]);
  };
  walk(0, 0, [], 1);
  return best;
}

describe('Viterbi decoding of the network path (Sec. 4.3)', () => {
  for (let L = 1; L <= 8; L++) {
    it(`equals brute-force enumeration of every path, L = ${L}`, () => {
      const trellis = new NetworkTrellis(L);
      for (let seed = 0; seed < 15; seed++) {
        const betaHat = randomBetaHat(trellis, seed * 31 + L);
        const v = viterbiDecode(betaHat, trellis);
        const b = bruteForce(betaHat, trellis);
        assert.deepEqual(v.path, b.path, `seed ${seed}`);
        assert.ok(Math.abs(Math.exp(v.logProb) - b.prob) < 1e-9 * Math.max(1, b.prob));
      }
    });
  }

  it('follows hand-set transitions: the released path', () => {
    const trellis = new NetworkTrellis(12);
    const want = AUTO_DEEPLAB_GENOTYPE.path;
    const betaHat = Array.from({ length: 12 }, (_, l) => Array.from({ length: 4 }, (_, k) => {
      const valid = [-1, 0, 1].map((d) => trellis.hasNode(l - 1, k) && trellis.hasNode(l, k + d));
      const from = l === 0 ? 0 : want[l - 1];
      const w = [-1, 0, 1].map((d, j): number => (valid[j] ? (k === from && k + d === want[l] ? 0.9 : 0.05) : 0));
      const z = w.reduce((a, b) => a + b, 0) || 1;
      return w.map((v) => v / z);
    }));
    assert.deepEqual(viterbiDecode(betaHat, trellis).path, want);
  });
});

describe('cell decoding (Sec. 4.3)', () => {
  const B = 5;

  /** Alpha that puts weight `w` on the released genotype's edges and ops. */
  function releasedAlpha(noise: number): number[][] {
    const r = jsRandom(3);
    const alpha = Array.from({ length: numEdges(B) }, () => PRIMITIVES.map(() => noise * r()));
    AUTO_DEEPLAB_GENOTYPE.cell.blocks.forEach((block, i) => {
      for (const br of block) alpha[edgeIndex(i, inputIndex(br.input))][PRIMITIVE_INDEX[br.op]] = 1;
    });
    return alpha;
  }

  it('a hand-set alpha decodes to the expected genotype (the released cell)', () => {
    const g = decodeCell(releasedAlpha(0.1), B);
    const sortBlock = (b: readonly { input: string; op: string }[]) => [...b].sort((x, y) => inputIndex(x.input as never) - inputIndex(y.input as never));
    assert.deepEqual(g.blocks.map(sortBlock), AUTO_DEEPLAB_GENOTYPE.cell.blocks.map(sortBlock));
  });

  it('never chooses zero, even when zero is the largest weight on every edge', () => {
    const alpha = releasedAlpha(0.1).map((row) => {
      const r = [...row];
      r[PRIMITIVE_INDEX.zero] = 5;
      return r;
    });
    const g = decodeCell(alpha, B);
    for (const block of g.blocks) for (const br of block) assert.notEqual(br.op, 'zero');
    assert.equal(g.blocks[0][0].op, 'atrous5x5');
  });

  it('ranks inputs by their strongest non-zero op, not by zero', () => {
    // Block 0: prevPrev has a huge zero and weak ops; prev has moderate ops. Block 1: three inputs.
    const alpha = Array.from({ length: numEdges(2) }, () => PRIMITIVES.map(() => 0.01));
    alpha[edgeIndex(1, 0)][PRIMITIVE_INDEX.zero] = 0.9; // prevPrev -> block1: only zero is strong
    alpha[edgeIndex(1, 0)][PRIMITIVE_INDEX.skip] = 0.05;
    alpha[edgeIndex(1, 1)][PRIMITIVE_INDEX.sep5x5] = 0.3;
    alpha[edgeIndex(1, 2)][PRIMITIVE_INDEX.maxpool3x3] = 0.2;
    const g = decodeCell(alpha, 2);
    assert.deepEqual(g.blocks[1].map((b) => b.input), ['prev', 'block0']);
    assert.deepEqual(g.blocks[1].map((b) => b.op), ['sep5x5', 'maxpool3x3']);
    assert.deepEqual(cellInputsOf(1), ['prevPrev', 'prev', 'block0']);
  });

  it('rejects alpha of the wrong size', () => {
    assert.throws(() => decodeCell([[1]], 5), /alpha has 1 rows, 5 blocks need 20/);
  });
});
