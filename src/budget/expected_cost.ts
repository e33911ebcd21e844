/**
 * Expected cost of the retrained network under the relaxed architecture, and
 * its gradient with respect to the normalised alpha and beta.
 *
 * Path: beta read as transition probabilities (as Viterbi reads them, Sec. 4.3):
 * the probability of a path is the product of its arrows' normalised betas.
 * A forward pass over the walk states (the last two sources and the exact
 * feature-map size, cost_table.ts) gives each state's probability; a
 * backward pass gives its expected cost-to-go; together they are the exact
 * expectation over all paths and its gradient (forward-backward).
 *
 * Cell: block i keeps two branches, so its expected branch cost is
 *   E_i = 2 * sum_{edges e of i, ops o != zero} p_eo c_eo / sum_{e, o != zero} p_eo
 * (the zero op, never decoded, is left out rather than counted as free; with
 * alpha one-hot on a genotype, i.e. its two branches' ops and zero on the
 * other edges, E_i is exactly the block's cost).
 *
 * Alpha per layer (search --alpha-per-layer): layer l's cell reads alpha row
 * l, so a cell's expected cost is per (layer, site) and dAlpha is per layer.
 */
import { branchCost, CellSite, CostTable, siteFixedCost, stemState, stepCell, WalkState } from './cost_table';
import { CellOpName, PRIMITIVES, ZERO } from '../arch/primitives';
import { cellInputsOf, edgeIndex, numEdges } from '../arch/topology';
import { NetworkTrellis } from '../arch/trellis';
import { isPerLayer } from '../search/decode';

export interface ExpectedCost {
  value: number;
  /** d value / d alphaHat, same shape as alphaHat (numEdges rows of |PRIMITIVES|, or [layer][edge][op] per layer). */
  dAlpha: number[][] | number[][][];
  /** d value / d betaHat, [layer][source level][direction + 1]. */
  dBeta: number[][][];
}

const keyOf = (s: WalkState) => `${s.prev},${s.cur},${s.size[0]},${s.size[1]}`;
const siteKey = (s: CellSite) => `${s.level},${s.strided},${s.outSize[0]},${s.outSize[1]}`;

/** Expected branch cost of a cell at a site, and a function adding weight * its gradient to dAlpha. */
function expectedCell(alphaHat: number[][], blocks: number, t: CostTable, site: CellSite) {
  const parts = Array.from({ length: blocks }, (_, i) => {
    let [num, den] = [0, 0];
    const costs = cellInputsOf(i).map((_, j) => PRIMITIVES.map((op, o) => (o === ZERO ? 0 : branchCost(t, site, op as CellOpName, j))));
    costs.forEach((row, j) => row.forEach((c, o) => {
      if (o === ZERO) return;
      const p = alphaHat[edgeIndex(i, j)][o];
      num += p * c;
      den += p;
    }));
    if (!(den > 0)) throw new RangeError(`expectedCost: block ${i} has all its alpha on the zero op`);
    return { costs, value: (2 * num) / den, den };
  });
  return {
    value: parts.reduce((s, b) => s + b.value, 0),
    addGrad(dAlpha: number[][], weight: number) {
      parts.forEach((b, i) => b.costs.forEach((row, j) => row.forEach((c, o) => {
        if (o !== ZERO) dAlpha[edgeIndex(i, j)][o] += (weight * (2 * c - b.value)) / b.den; // d(2 num / den)
      })));
    },
  };
}

interface Transition {
  dir: number;
  q: number;
  cost: number;
  site: string;
  next: string;
}

interface StateNode {
  state: WalkState;
  level: number;
  p: number;
  toGo: number;
  out: Transition[];
}

/**
 * alphaHat: softmaxed alpha rows (or [layer][edge][op], one alpha per layer); betaHat[l][k][d + 1]: the normalised arrow
 * leaving node (l - 1, k) (the stem for l = 0). Any non-negative values are
 * accepted (the expectation is a polynomial in beta), so finite differences
 * can check the gradient entry by entry.
 */
export function expectedCost(alphaHat: number[][] | number[][][], betaHat: number[][][], trellis: NetworkTrellis, table: CostTable): ExpectedCost {
  const blocks = table.shape.blocks;
  const perLayer = isPerLayer(alphaHat);
  if (perLayer && alphaHat.length !== trellis.layers) throw new RangeError(`expectedCost: alpha per layer has ${alphaHat.length} layers, the trellis ${trellis.layers}`);
  const alphaOf = (l: number) => (perLayer ? alphaHat[l] : alphaHat) as number[][];
  for (const rows of perLayer ? alphaHat : [alphaHat as number[][]]) {
    if (rows.length !== numEdges(blocks)) throw new RangeError(`expectedCost: alpha has ${rows.length} rows, ${blocks} blocks need ${numEdges(blocks)}`);
  }
  // One expected cell per site, or per (layer, site) when each layer has its own alpha.
  const cells = new Map<string, ReturnType<typeof expectedCell> & { layer: number }>();
  const cellAt = (site: CellSite, l: number) => {
    const k = perLayer ? `${l}|${siteKey(site)}` : siteKey(site);
    if (!cells.has(k)) cells.set(k, { ...expectedCell(alphaOf(l), blocks, table, site), layer: l });
    return k;
  };
  // Forward: the probability of every walk state after each layer.
  const start = stemState(table.shape.size);
  const layers: Map<string, StateNode>[] = [new Map([[keyOf(start), { state: start, level: 0, p: 1, toGo: 0, out: [] }]])];
  for (let l = 0; l < trellis.layers; l++) {
    const next = new Map<string, StateNode>();
    for (const node of layers[l].values()) {
      for (const a of trellis.arrowsFrom(l, node.level)) {
        const q = betaHat[l][node.level][a.dir + 1];
        const { site, next: s } = stepCell(node.state, a.to);
        const sk = cellAt(site, l);
        const nk = keyOf(s);
        const target = next.get(nk) ?? { state: s, level: a.to, p: 0, toGo: 0, out: [] };
        target.p += node.p * q;
        next.set(nk, target);
        node.out.push({ dir: a.dir, q, cost: siteFixedCost(table, site) + cells.get(sk)!.value, site: sk, next: nk });
      }
    }
    layers.push(next);
  }
  // Backward: expected cost-to-go; the head's cost ends every path.
  for (const node of layers[trellis.layers].values()) node.toGo = table.aspp(node.level, node.state.size);
  for (let l = trellis.layers - 1; l >= 0; l--) {
    for (const node of layers[l].values()) node.toGo = node.out.reduce((s, tr) => s + tr.q * (tr.cost + layers[l + 1].get(tr.next)!.toGo), 0);
  }
  const dAlpha = perLayer ? alphaHat.map((rows) => rows.map((r) => r.map(() => 0))) : (alphaHat as number[][]).map((r) => r.map(() => 0));
  const dBeta = betaHat.map((r) => r.map((d) => d.map(() => 0)));
  const siteWeight = new Map<string, number>();
  layers.slice(0, -1).forEach((layer, l) => {
    for (const node of layer.values()) {
      for (const tr of node.out) {
        dBeta[l][node.level][tr.dir + 1] += node.p * (tr.cost + layers[l + 1].get(tr.next)!.toGo);
        siteWeight.set(tr.site, (siteWeight.get(tr.site) ?? 0) + node.p * tr.q);
      }
    }
  });
  for (const [k, w] of siteWeight) {
    const cell = cells.get(k)!;
    cell.addGrad((perLayer ? dAlpha[cell.layer] : dAlpha) as number[][], w);
  }
  // Decoder: its low-level input is the first cell when the path starts at level 0 (the "same" arrow), else the stem.
  const coarser = trellis.hasNode(0, 1);
  dBeta[0][0][1] += table.decoder(true);
  if (coarser) dBeta[0][0][2] += table.decoder(false);
  const decoder = betaHat[0][0][1] * table.decoder(true) + (coarser ? betaHat[0][0][2] * table.decoder(false) : 0);
  const value = table.stem() + [...layers[0].values()][0].toGo + decoder;
  return { value, dAlpha, dBeta };
}
