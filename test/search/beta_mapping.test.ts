/**
 * Eq. 6 in the supernet itself: each node's output depends, among the beta
 * entries of its own layer, on exactly the entries of the arrows that arrive
 * at it (one per source node, the arrow that leaves that source towards this
 * node), and every unmasked beta entry is read by exactly one node. Checked
 * black-box through gradients with respect to softmax(beta), not through the
 * index formula: one public implementation weighted an arrow with another
 * arrow's beta, which this would catch.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { NetworkTrellis } from '../../src/arch/trellis';
import { resolveSearchConfig } from '../../src/search/config';
import { Supernet } from '../../src/search/supernet';

describe('beta: each arrow its own entry', () => {
  it('node (l, k) reads exactly the entries of the arrows into it; every unmasked entry is read once', () => {
    T.manualSeed(5);
    const cfg = resolveSearchConfig({ layers: 4, blocks: 2, filterMultiplier: 1, stemChannels: 4, numClasses: 2, crop: 33, threads: 2 });
    const net = new Supernet(cfg, { archInitScale: 0.5 });
    const trellis = new NetworkTrellis(cfg.layers, cfg.levels);
    const L = cfg.layers;
    const x = T.randn([2, 3, 33, 33]).keep();
    const readBy = new Map<string, string>(); // "l,from,dir" -> node that reads it
    for (let l = 0; l < L; l++) {
      for (const k of trellis.levelsAt(l)) {
        const nonzero = T.tidy(() => {
          const pass = { training: true, updateStats: false };
          const ctx = net.context(33, pass);
          const betaFlat = T.detach(ctx.betaFlat).setRequiresGrad(true);
          const c = { ...ctx, betaFlat };
          const states = [net.stem(x, pass)];
          for (let i = 0; i <= l; i++) states.push(net.layer(i, states, c));
          const [g] = T.grad(T.sum(T.square(states[l + 1].get(k)!)), [betaFlat]);
          const v = g!.toArray();
          const out: string[] = [];
          for (let from = 0; from < cfg.levels; from++) for (let d = -1; d <= 1; d++) {
            if (v[(l * cfg.levels + from) * 3 + d + 1] !== 0) out.push(`${l},${from},${d}`);
          }
          return out;
        });
        const expected = trellis.levelsAt(l - 1).filter((from) => Math.abs(k - from) <= 1).map((from) => `${l},${from},${k - from}`);
        assert.deepEqual(nonzero.sort(), expected.sort(), `node (${l}, ${k}) reads beta entries ${nonzero.join(' ')}`);
        for (const e of nonzero) {
          assert.ok(!readBy.has(e), `beta entry ${e} is read by node ${readBy.get(e)} and by (${l}, ${k})`);
          readBy.set(e, `(${l}, ${k})`);
        }
      }
    }
    // Every entry the mask leaves open (an arrow that exists) is read by some node.
    const mask = trellis.betaMask();
    for (let l = 0; l < L; l++) for (const from of trellis.levelsAt(l - 1)) for (let d = -1; d <= 1; d++) {
      const open = mask[(l * cfg.levels + from) * 3 + d + 1] === 0;
      assert.equal(readBy.has(`${l},${from},${d}`), open, `beta entry ${l},${from},${d}: open ${open}`);
    }
    net.dispose();
    x.dispose();
  });
});
