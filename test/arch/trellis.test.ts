import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { NetworkTrellis } from '../../src/arch/trellis';
import { randomArray } from '../helpers';

function normalized(trellis: NetworkTrellis, logits: number[]): number[] {
  return T.tidy(() => {
    const shape = [trellis.layers, trellis.levels, 3];
    const mask = T.tensor(trellis.betaMask(), shape);
    return trellis.normalizeBetas(T.tensor(logits, shape), mask).toArray();
  });
}

describe('network trellis and beta normalisation (Eq. 7-8)', () => {
  const trellis = new NetworkTrellis(6);
  const logits = randomArray(6 * 4 * 3, 5).map((v) => 3 * v);
  const p = normalized(trellis, logits);
  const row = (l: number, k: number) => p.slice((l * 4 + k) * 3, (l * 4 + k) * 3 + 3);

  it('the arrows leaving every node sum to 1, boundary nodes included', () => {
    for (let l = 0; l < 6; l++) for (const k of trellis.levelsAt(l - 1)) {
      const r = row(l, k);
      assert.ok(Math.abs(r.reduce((a, b) => a + b, 0) - 1) < 1e-6, `node (${l - 1}, ${k}) sums to ${r}`);
      assert.ok(r.every((v) => v >= 0));
    }
  });

  it('stride-4 and stride-32 nodes have exactly two arrows, the stem two, others three', () => {
    assert.deepEqual(trellis.arrowsFrom(0, 0).map((a) => a.to), [0, 1]); // the stem
    for (let l = 3; l < 6; l++) { // node (l - 1, 3) exists from layer 2 on
      assert.equal(row(l, 0)[0], 0, 'no finer level below stride 4');
      assert.equal(row(l, 3)[2], 0, 'no coarser level above stride 32');
      assert.ok(row(l, 0)[1] > 0 && row(l, 0)[2] > 0);
      assert.ok(row(l, 3)[0] > 0 && row(l, 3)[1] > 0);
      assert.ok(row(l, 1).every((v) => v > 0) && row(l, 2).every((v) => v > 0));
    }
  });

  it('each arrow is weighted by its own beta: changing one beta changes only its node', () => {
    const changed = [...logits];
    const l = 3;
    const k = 1;
    changed[(l * 4 + k) * 3 + 2] += 1.5;
    const q = normalized(trellis, changed);
    for (let i = 0; i < p.length; i++) {
      const sameNode = Math.floor(i / 3) === l * 4 + k;
      if (!sameNode) assert.equal(q[i], p[i], `entry ${i} of another node changed`);
    }
    // Within the node: the raised arrow gains, the others lose, in softmax proportion.
    const before = row(l, k);
    const after = q.slice((l * 4 + k) * 3, (l * 4 + k) * 3 + 3);
    assert.ok(after[2] > before[2] && after[0] < before[0] && after[1] < before[1]);
    assert.ok(Math.abs(after[0] / after[1] - before[0] / before[1]) < 1e-5);
  });

  it('layer l reaches levels 0..min(3, l + 1); path counts are Fibonacci numbers', () => {
    assert.deepEqual(trellis.levelsAt(0), [0, 1]);
    assert.deepEqual(trellis.levelsAt(1), [0, 1, 2]);
    assert.deepEqual(trellis.levelsAt(4), [0, 1, 2, 3]);
    // With the first cell at stride 4 or 8 (Sec. 3.2), L = 12 gives 75,025 paths; the
    // paper's 2.9e4 is 28,657, the count with one transition fewer (L = 11 here).
    assert.equal(new NetworkTrellis(12).countPaths(), 75025);
    assert.equal(new NetworkTrellis(11).countPaths(), 28657);
  });
});
