/**
 * The architecture section of a search report: the decoded path and cells
 * (./diagrams.ts), then alpha and beta as heatmaps relative to uniform
 * (./charts.ts): softmax(alpha) per edge and op and the normalised beta per
 * trellis node and arrow at the last epoch, with the decoded choices
 * outlined, and each edge's and node's strongest weight over the epochs.
 */
import { distinctCells, Genotype, STRIDES } from '../arch/genotype';
import { cellInputsOf } from '../arch/topology';
import { PRIMITIVES, ZERO } from '../arch/primitives';
import { alphaRows } from '../search/decode';
import { heatmap, HeatmapCell } from './charts';
import { cellSvg, trellisSvg } from './diagrams';

/** What genotype.json and genotypes/epoch-NNN.json hold besides the genotype (epoch 0-based). alpha: [edge][op] or [layer][edge][op]; beta: [layer][level][arrow]. */
export interface EpochGenotype { search: { epoch: number; alpha: number[][] | number[][][]; beta: number[][][] } }

/** One alpha row: its name and, when the decoded cell keeps the edge, the op it keeps. */
interface Edge { name: string; kept: string | null }

/** The alpha rows of a genotype's search, in Supernet.snapshot's order: each layer's (alpha per layer) or the one cell's edges. */
function edges(g: Genotype): Edge[] {
  const cells = g.cells ?? [g.cell];
  return cells.flatMap((cell, l) => cell.blocks.flatMap((block, i) => cellInputsOf(i).map((input) => ({
    name: `${g.cells ? `L${l + 1} ` : ''}block${i} ← ${input}`,
    kept: block.find((br) => br.input === input)?.op ?? null,
  }))));
}

/** The strongest non-zero op of an alpha row (what decoding ranks an edge by, Sec. 4.3). */
function strongestOp(row: number[]): number {
  return row.reduce((best, w, k) => (k !== ZERO && (best < 0 || w > row[best]) ? k : best), -1);
}

/** beta arrows leaving a node: d = -1, 0, +1 (towards stride s/2, s, 2s). */
const ARROWS = ['to stride s/2', 'same stride', 'to stride 2s'];

/** A trellis node's name: beta[l][k] is the row of arrows leaving node (l - 1, k), the stem for l = 0. */
const nodeName = (l: number, k: number) => `${l === 0 ? 'stem' : `layer ${l}`}, stride ${STRIDES[k]}`;

/** The arrow of beta[l][k] that the decoded path takes (its index d + 1), or -1 when the path does not pass the node. */
function pathArrow(g: Genotype, l: number, k: number): number {
  const from = l === 0 ? 0 : g.path[l - 1];
  return from === k ? g.path[l] - k + 1 : -1;
}

export function architectureSections(g: Genotype, last: EpochGenotype['search'] | undefined, history: EpochGenotype[]): string[] {
  const cells = distinctCells(g);
  const out = ['<h2>Architecture</h2>', '<div class="diagrams">', trellisSvg(g, last?.beta),
    ...cells.map((c) => cellSvg(c.cell, cells.length === 1 ? 'cell' : `cell of layers ${c.layers.map((l) => l + 1).join(', ')}`)), '</div>'];
  const rows = edges(g);
  const K = PRIMITIVES.length;
  if (last) {
    const alpha = alphaRows(last.alpha);
    out.push(heatmap({
      title: 'alpha at the last epoch: softmax weight of each op on each edge', rowTitle: 'edge', colTitle: 'op', colStep: 74,
      subtitle: `colour: above (orange) or below (blue) uniform, 1/${K}; outlined: the decoded cell's choices; hover for the weights`,
      rows: rows.map((r) => r.name), cols: [...PRIMITIVES], uniform: () => 1 / K,
      cells: alpha.flatMap((row, e) => row.map((value, k): HeatmapCell => ({ row: rows[e].name, col: PRIMITIVES[k], value, chosen: rows[e].kept === PRIMITIVES[k] }))),
    }));
    const nodes = betaNodes(last.beta);
    out.push(heatmap({
      title: 'beta at the last epoch: weight of each arrow leaving a trellis node', rowTitle: 'node', colTitle: 'arrow', colStep: 96,
      subtitle: 'colour: above (orange) or below (blue) uniform, 1 / the node\'s arrows (grey: no such arrow); outlined: the decoded path; hover for the weights',
      rows: nodes.map((n) => n.name), cols: ARROWS, uniform: (row) => 1 / nodes.find((n) => n.name === row)!.arrows,
      cells: nodes.flatMap((n) => last.beta[n.l][n.k].flatMap((value, a): HeatmapCell[] =>
        (value > 0 ? [{ row: n.name, col: ARROWS[a], value, chosen: pathArrow(g, n.l, n.k) === a }] : []))),
    }));
  }
  if (history.length) out.push(...historySections(g, rows, history));
  return out;
}

/** The trellis nodes that have arrows (a beta row with weight), in order. */
function betaNodes(beta: number[][][]): { l: number; k: number; name: string; arrows: number }[] {
  return beta.flatMap((layer, l) => layer.flatMap((row, k) => (row.some((v) => v > 0) ? [{ l, k, name: nodeName(l, k), arrows: row.filter((v) => v > 0).length }] : [])));
}

function historySections(g: Genotype, rows: Edge[], history: EpochGenotype[]): string[] {
  const epochs = history.map((h) => String(h.search.epoch + 1));
  const K = PRIMITIVES.length;
  const alphaCells = history.flatMap((h, t) => alphaRows(h.search.alpha).map((row, e): HeatmapCell => {
    const k = strongestOp(row);
    return { row: rows[e].name, col: epochs[t], value: row[k], note: `strongest non-zero op: ${PRIMITIVES[k]}`, chosen: rows[e].kept === PRIMITIVES[k] };
  }));
  const nodes = betaNodes(history[history.length - 1].search.beta);
  const betaCells = history.flatMap((h, t) => nodes.map((n): HeatmapCell => {
    const row = h.search.beta[n.l][n.k];
    const a = row.indexOf(Math.max(...row));
    return { row: n.name, col: epochs[t], value: row[a], note: `strongest arrow: ${ARROWS[a]}`, chosen: a === pathArrow(g, n.l, n.k) };
  }));
  return [
    heatmap({
      title: 'alpha over epochs: weight of each edge\'s strongest non-zero op', rowTitle: 'edge', colTitle: 'epoch', rows: rows.map((r) => r.name), cols: epochs,
      subtitle: `colour: above or below uniform, 1/${K}; outlined: the strongest op is the one the decoded cell keeps; hover for the op`, uniform: () => 1 / K, cells: alphaCells,
    }),
    heatmap({
      title: 'beta over epochs: weight of each node\'s strongest arrow', rowTitle: 'node', colTitle: 'epoch', rows: nodes.map((n) => n.name), cols: epochs,
      subtitle: 'colour: above or below uniform; outlined: the strongest arrow is the decoded path\'s; hover for the arrow',
      uniform: (row) => 1 / nodes.find((n) => n.name === row)!.arrows, cells: betaCells,
    }),
  ];
}
