/**
 * Eq. 6 in the supernet itself: each node's output depends, among the beta
 * entries of its own layer, on exactly the entries of the arrows that arrive
 * at it, and every unmasked beta entry is read by exactly one node. Then,
 * which arrow: the term that an entry weights changes when, and only when,
 * the state of the entry's own source node changes (perturbing each source in
 * turn). The first check alone would pass an implementation that weights one
 * arrow into a node with another arrow's beta (a public one did); the second
 * catches it, as the test shows on a supernet with that bug planted. Checked
 * black-box through gradients with respect to softmax(beta), not through the
 * index formula.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { NetworkTrellis } from '../../src/arch/trellis';
import { betaIndex } from '../../src/arch/topology';
import { resolveSearchConfig } from '../../src/search/search_config';
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

/**
 * For each beta entry of layer l, the source nodes (levels of layer l - 1)
 * whose perturbation changes d(sum_k <r_k, node_k>)/d softmax(beta)[entry]
 * (r_k fixed random weights of every node of layer l).
 */
function entrySources(net: Supernet, x: T.Tensor, l: number): Map<number, number[]> {
  const pass = { training: true, updateStats: false };
  const size = x.shape[2];
  const gradients = (perturb: number | null) => T.tidy(() => {
    const ctx = net.context(size, pass);
    const betaFlat = T.detach(ctx.betaFlat).setRequiresGrad(true);
    const states = T.noGrad(() => {
      const s = [net.stem(x, pass)];
      for (let i = 0; i < l; i++) s.push(net.layer(i, s, ctx));
      return s;
    });
    if (perturb !== null) {
      T.manualSeed(100 + perturb);
      const h = states[l].get(perturb)!;
      states[l].set(perturb, T.add(h, T.mul(T.randn(h.shape), 0.5)));
    }
    const out = net.layer(l, states, { ...ctx, betaFlat });
    T.manualSeed(7); // the same r_k whatever is perturbed
    const loss = [...out.values()].map((o) => T.sum(T.mul(o, T.randn(o.shape)))).reduce((a, b) => T.add(a, b));
    return T.grad(loss, [betaFlat])[0]!.toArray();
  });
  const base = gradients(null);
  const scale = Math.max(...base.map(Math.abs));
  const sources = new Map<number, number[]>(base.map((_, e) => [e, []]));
  for (const from of net.trellis.levelsAt(l - 1)) {
    gradients(from).forEach((g, e) => {
      if (Math.abs(g - base[e]) > 1e-5 * scale) sources.get(e)!.push(from);
    });
  }
  return sources;
}

/** Every beta entry of every layer against the arrow it belongs to: problems found, as text. */
function arrowProblems(net: Supernet, x: T.Tensor): string[] {
  const { trellis } = net;
  const levels = trellis.levels;
  const problems: string[] = [];
  for (let l = 0; l < trellis.layers; l++) {
    const sources = entrySources(net, x, l);
    for (let from = 0; from < levels; from++) for (let d = -1; d <= 1; d++) {
      const e = betaIndex(l, from, d, levels);
      const expected = trellis.hasNode(l - 1, from) && trellis.hasNode(l, from + d) ? [from] : [];
      const got = sources.get(e)!;
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        problems.push(`beta[${l}][${from}][${d + 1}] weights a term that depends on sources ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
      }
    }
  }
  return problems;
}

describe('beta: each entry weights the arrow from its own source', () => {
  const cfg = (untiedCells: boolean) =>
    resolveSearchConfig({ layers: 3, blocks: 2, filterMultiplier: 1, stemChannels: 4, numClasses: 2, crop: 33, threads: 2, untiedCells });
  for (const untied of [false, true]) it(`every unmasked entry's term depends on its source node only (${untied ? 'untied' : 'shared'} cells)`, () => {
    T.manualSeed(5);
    const net = new Supernet(cfg(untied), { archInitScale: 0.5 });
    const x = T.randn([2, 3, 33, 33]).keep();
    assert.deepEqual(arrowProblems(net, x), []);
    net.dispose();
    x.dispose();
  });

  it('finds the public implementation\'s bug: two arrows into a node that swap their betas', () => {
    T.manualSeed(5);
    const net = new Supernet(cfg(false), { archInitScale: 0.5 });
    const x = T.randn([2, 3, 33, 33]).keep();
    const node = net.nodes[2][1]; // arrows from levels 0, 1, 2 of layer 1
    assert.deepEqual(node.arrows.map((a) => a.from), [0, 1, 2]);
    const rows = node.arrows.map((a) => betaIndex(2, a.from, a.dir, net.trellis.levels));
    node.betaRows.dispose();
    (node as unknown as { betaRows: T.Tensor }).betaRows = T.tensor([rows[2], rows[1], rows[0]], [3], { dtype: 'int64' }).keep();
    assert.deepEqual(arrowProblems(net, x).sort(), [
      'beta[2][0][2] weights a term that depends on sources [2], expected [0]',
      'beta[2][2][0] weights a term that depends on sources [0], expected [2]',
    ]);
    net.dispose();
    x.dispose();
  });
});
