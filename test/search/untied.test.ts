/**
 * Cell weights of the supernet at the paper's search size (L = 12, F = 8,
 * B = 5), shared (the cells into a node share op weights) and untied
 * (--untied-cells: one weight set per arrow), against a closed form written
 * as a plain loop over nodes, arrows, edges and ops.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { ATROUS_OPS, KERNEL, SEP_OPS } from '../../src/arch/primitives';
import { numEdges } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { DEFAULT_SEARCH_CONFIG } from '../../src/search/search_config';
import { Supernet } from '../../src/search/supernet';

/** Weights of one cell of width C: every edge holds every op (sepKxK: 2 x (depthwise C*K*K + pointwise C*C); atrousKxK: C*C*K*K). */
function cellWeights(blocks: number, C: number): number {
  let n = 0;
  for (let e = 0; e < numEdges(blocks); e++) {
    for (const op of SEP_OPS) n += 2 * (C * KERNEL[op] ** 2 + C * C);
    for (const op of ATROUS_OPS) n += C * C * KERNEL[op] ** 2;
  }
  return n;
}

/** Sum over nodes (and, untied, over the arrows into each node) of one cell's weights. */
function closedForm(layers: number, levels: number, blocks: number, F: number, untied: boolean): number {
  const trellis = new NetworkTrellis(layers, levels);
  let n = 0;
  for (let l = 0; l < layers; l++) {
    for (const k of trellis.levelsAt(l)) {
      const cells = untied ? trellis.arrowsInto(l, k).length : 1;
      n += cells * cellWeights(blocks, F * 2 ** k);
    }
  }
  return n;
}

const cellCount = (net: Supernet) => net.weights.namedParameters().filter(([n]) => n.includes('.cell.')).reduce((s, [, p]) => s + p.size, 0);

describe('untied cells', () => {
  it('cell weights at L = 12, F = 8: 44.3M shared, 94.0M untied, as the closed form counts', () => {
    const cfg = { ...DEFAULT_SEARCH_CONFIG, numClasses: 19 };
    assert.deepEqual([cfg.layers, cfg.filterMultiplier, cfg.blocks], [12, 8, 5]);
    const counts: Record<string, number> = {};
    for (const untiedCells of [false, true]) {
      const net = new Supernet({ ...cfg, untiedCells });
      const expected = closedForm(cfg.layers, cfg.levels, cfg.blocks, cfg.filterMultiplier, untiedCells);
      counts[String(untiedCells)] = cellCount(net);
      assert.equal(cellCount(net), expected, `untied ${untiedCells}`);
      // Everything else (stem, arrow and H^{l-2} preprocessing, heads) is the same in both.
      counts[`rest ${untiedCells}`] = net.weights.count() - cellCount(net);
      net.dispose();
    }
    assert.equal(counts['rest true'], counts['rest false']);
    assert.equal((counts.false / 1e6).toFixed(1), '44.3');
    assert.equal((counts.true / 1e6).toFixed(1), '94.0');
    assert.equal((counts.true / counts.false).toFixed(1), '2.1');
  });

  it('an untied node gives each arrow its own cell: one arrow\'s weights do not move the others\' outputs', () => {
    T.manualSeed(3);
    const net = new Supernet({ ...DEFAULT_SEARCH_CONFIG, layers: 2, blocks: 2, filterMultiplier: 1, stemChannels: 4, numClasses: 2, untiedCells: true }, { archInitScale: 0.5 });
    const node = net.nodes[1][1]; // level 1 of layer 1: arrows from levels 0 and 1
    assert.equal(node.arrows.length, 2);
    const x = T.randn([2, 3, 33, 33]).keep();
    const pass = { training: true, updateStats: false };
    const arrowOutputs = () => T.noGrad(() => T.tidy(() => {
      const ctx = net.context(33, pass);
      const states = [net.stem(x, pass)];
      states.push(net.layer(0, states, ctx));
      const prev = node.pre.map((p) => p.forward(states[1].get(p.arrow.from)!, ctx.sizes[1], pass));
      const pp = node.prevPrevPre.forward(T.resizeBilinear(states[0].get(0)!, [ctx.sizes[1], ctx.sizes[1]], false), true, false);
      const out = node.cell.forward(T.cat(prev, 1), pp, ctx.mix[1], pass); // (B, A, blocks, C, h, w)
      return [0, 1].map((a) => T.select(out, 1, a).toArray());
    }));
    const before = arrowOutputs();
    // Arrow 1's copy of every op weight of the cell: the second half of each weight's rows is arrow 1's (copy-major layouts).
    const cellWeightsOf = net.weights.namedParameters().filter(([n]) => n.startsWith('layer1.level1.cell.'));
    T.noGrad(() => {
      for (const [name, w] of cellWeightsOf) {
        const rows = w.shape[0];
        if (!name.includes('.pw')) T.tidy(() => T.assign(T.narrow(w, 0, rows / 2, rows / 2), T.mul(T.narrow(w, 0, rows / 2, rows / 2), 3)));
      }
    });
    const after = arrowOutputs();
    assert.deepEqual(after[0], before[0], 'arrow 0 moved with arrow 1\'s weights');
    assert.notDeepEqual(after[1], before[1]);
    net.dispose();
    x.dispose();
  });
});
