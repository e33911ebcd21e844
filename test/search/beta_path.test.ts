/**
 * One-hot beta along a network path, batch norm in evaluation mode: every
 * node of the path computes exactly that path's network, as an oracle builds
 * it from the reference supernet's parts (stem, the path arrow's
 * preprocessing, H^{l-2}'s, and the path arrow's cell alone, Eq. 1-2),
 * without beta and without any other arrow. Every other node sends its whole
 * weight away from the path. The paths chosen read H^{l-2} from the path
 * itself (level l - 2 of the path equals level l), so that the path alone
 * determines them; layer 0 reads the stem's stride-2 output, layer 1 its
 * stride-4 one. In float64, after two training passes have moved the BN
 * running statistics of both supernets alike.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { levelSizes } from '../../src/arch/space';
import { betaIndex } from '../../src/arch/topology';
import { resolveSearchConfig } from '../../src/search/search_config';
import { ReferenceCell } from '../../src/search/reference/reference_cell';
import { loadFusedWeights, referenceSupernet } from '../../src/search/reference/reference_network';
import { Supernet } from '../../src/search/supernet';

const PATHS = [[0, 0, 0, 0], [1, 2, 1, 2], [1, 0, 1, 0]];
const SIZE = 33;

/** beta logits: the path's arrows, and for every other node an arrow that misses the path, at +60 (softmax 1 - 1e-26). */
function setOneHotBeta(net: Supernet, path: number[]): void {
  const { trellis } = net;
  const logits = new Array<number>(net.beta.size).fill(0);
  for (let l = 0; l < trellis.layers; l++) {
    for (const from of trellis.levelsAt(l - 1)) {
      const onPath = from === (l === 0 ? 0 : path[l - 1]);
      const dir = onPath ? path[l] - from : trellis.arrowsFrom(l, from).find((a) => a.to !== path[l])!.dir;
      logits[betaIndex(l, from, dir, trellis.levels)] = 60;
    }
  }
  T.noGrad(() => T.tidy(() => T.assign(net.beta, T.tensor(logits, net.beta.shape))));
}

/** The path's node states computed from the reference supernet's parts, arrow by arrow along the path. */
function pathOracle(ref: Supernet, x: T.Tensor, path: number[]): T.Tensor[] {
  const pass = { training: false, updateStats: false };
  const stem = ref.stem(x, pass);
  const sizes = levelSizes(SIZE, ref.cfg.levels);
  const { alphaHat } = ref.normalized();
  const out: T.Tensor[] = [];
  path.forEach((k, l) => {
    const node = ref.nodes[l][k];
    const a = node.arrows.findIndex((arrow) => arrow.from === (l === 0 ? 0 : path[l - 1]));
    const prev = l === 0 ? stem.get(0)! : out[l - 1];
    if (l >= 2) assert.deepEqual(ref.prevPrevOf(l, k), [l - 2, path[l - 2]], 'the path must read H^{l-2} from itself');
    const prevPrev = l === 0 ? stem.get(-1)! : l === 1 ? stem.get(0)! : out[l - 2];
    const size = sizes[k];
    const pp = node.prevPrevPre.forward(prevPrev.shape[2] === size ? prevPrev : T.resizeBilinear(prevPrev, [size, size], false), false, false);
    const alpha = ref.cfg.alphaPerLayer ? T.select(alphaHat, 0, l) : alphaHat;
    const blocks = (node.cell as ReferenceCell).arrowCell(a, node.pre[a].forward(prev, size, pass), pp, alpha, pass); // (B, blocks, C, h, w)
    const [B, nb, C] = blocks.shape;
    out.push(T.reshape(blocks, [B, nb * C, size, size]));
  });
  return out;
}

function maxRelDiff(a: number[], b: number[]): number {
  const scale = Math.max(1e-12, ...b.map(Math.abs));
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]))) / scale;
}

describe('one-hot beta along a path', () => {
  for (const variant of [{ untiedCells: false, alphaPerLayer: false }, { untiedCells: true, alphaPerLayer: true }]) {
    it(`gives that path's network, node by node, and its logits (BN in evaluation mode; ${JSON.stringify(variant)})`, () => {
      T.setDefaultFloatDType('float64');
      T.manualSeed(11);
      const cfg = resolveSearchConfig({ layers: 4, blocks: 2, filterMultiplier: 1, stemChannels: 4, numClasses: 2, crop: SIZE, threads: 2, ...variant });
      const net = new Supernet(cfg, { archInitScale: 0.5 });
      const ref = referenceSupernet(cfg);
      loadFusedWeights(net, ref);
      T.noGrad(() => {
        for (let i = 0; i < 2; i++) T.tidy(() => { const xb = T.randn([2, 3, SIZE, SIZE]); net.forward(xb, true); ref.forward(xb, true); });
      });
      for (const path of PATHS) {
        setOneHotBeta(net, path);
        T.noGrad(() => T.tidy(() => {
          const x = T.randn([2, 3, SIZE, SIZE]);
          const pass = { training: false, updateStats: false };
          const ctx = net.context(SIZE, pass);
          const states = [net.stem(x, pass)];
          for (let l = 0; l < cfg.layers; l++) states.push(net.layer(l, states, ctx));
          const oracle = pathOracle(ref, x, path);
          path.forEach((k, l) => {
            const d = maxRelDiff(states[l + 1].get(k)!.toArray(), oracle[l].toArray());
            assert.ok(d < 1e-9, `path ${path}: node (${l}, ${k}) differs from the path's own network by ${d}`);
          });
          // Logits: the supernet's, against its heads over the oracle's path end (the other heads read nodes off the path).
          const last = new Map([...states[cfg.layers]].map(([k, t]) => [k, k === path[cfg.layers - 1] ? oracle[cfg.layers - 1] : t]));
          const d = maxRelDiff(net.forward(x, false).toArray(), net.heads(last, SIZE, SIZE, pass).toArray());
          assert.ok(d < 1e-9, `path ${path}: logits differ by ${d}`);
        }));
      }
      net.dispose();
      ref.dispose();
      T.setDefaultFloatDType('float32');
    });
  }
});
