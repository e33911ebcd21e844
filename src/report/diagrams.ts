/**
 * Architecture diagrams as SVG: the network path on the L x 4 trellis (the
 * paper's Fig. 1 / Fig. 3, with arrow strength from beta and, dashed, each
 * node's strongest outgoing arrow), and the cell as a DAG with op names
 * (one per layer for a genotype with a cell per layer).
 */
import { CellGenotype, cellOfLayer, Genotype, STRIDES } from '../arch/genotype';
import { NetworkTrellis } from '../arch/trellis';
import { OP_TABLE } from '../arch/primitives';
import { esc, svg } from './svg';


/** betaHat[l][k][d + 1]: optional normalised betas of the search. */
export function trellisSvg(genotype: Genotype, betaHat?: number[][][]): string {
  const L = genotype.path.length;
  const trellis = new NetworkTrellis(L);
  const dx = 64;
  const dy = 62;
  const x = (l: number) => 90 + (l + 1) * dx;
  const y = (k: number) => 40 + k * dy;
  const width = x(L) + 20;
  const height = y(3) + 70;
  const body: string[] = [];
  STRIDES.forEach((s, k) => body.push(`<text x="8" y="${y(k) + 4}" font-size="12">stride ${s}</text>`));
  // Every arrow, its opacity the beta weight (or faint when unknown).
  for (let l = 0; l < L; l++) {
    for (const from of trellis.levelsAt(l - 1)) {
      const arrows = trellis.arrowsFrom(l, from);
      const weights = arrows.map((a) => betaHat?.[l]?.[from]?.[a.dir + 1] ?? 0.15);
      const best = weights.indexOf(Math.max(...weights));
      arrows.forEach((a, i) => {
        body.push(`<line x1="${x(l - 1)}" y1="${y(from)}" x2="${x(l)}" y2="${y(a.to)}" stroke="#999" stroke-width="${(1 + 3 * weights[i]).toFixed(2)}" stroke-opacity="${(0.15 + 0.6 * weights[i]).toFixed(2)}"/>`);
        if (betaHat && i === best) {
          body.push(`<line x1="${x(l - 1)}" y1="${y(from)}" x2="${x(l)}" y2="${y(a.to)}" stroke="#555" stroke-width="1.2" stroke-dasharray="4 3"/>`);
        }
      });
    }
  }
  // The decoded path.
  const pts = [[x(-1), y(0)], ...genotype.path.map((k, l) => [x(l), y(k)])];
  body.push(`<polyline fill="none" stroke="#1f5fbf" stroke-width="4" stroke-linejoin="round" points="${pts.map((p) => p.join(',')).join(' ')}"/>`);
  for (let l = -1; l < L; l++) {
    for (const k of trellis.levelsAt(l)) {
      const on = l === -1 || genotype.path[l] === k;
      body.push(`<circle cx="${x(l)}" cy="${y(k)}" r="${on ? 9 : 6}" fill="${l === -1 ? '#888' : on ? '#1f5fbf' : '#cfe0f7'}" stroke="#333" stroke-width="0.8"/>`);
    }
    if (l >= 0) body.push(`<text x="${x(l)}" y="${height - 38}" font-size="11" text-anchor="middle">${l + 1}</text>`);
  }
  body.push(`<text x="${x(-1)}" y="${height - 38}" font-size="11" text-anchor="middle">stem</text>`,
    `<text x="${width / 2}" y="${height - 14}" font-size="12" text-anchor="middle">layer; path (output stride per layer): ${genotype.path.map((k) => STRIDES[k]).join(' ')}</text>`);
  return svg(width, height, body, 'network path');
}

/** Cell diagram geometry: a column per block, its two op boxes on a top and a bottom row, the block's sum between them. */
const COL = 190;
const colX = (c: number) => 70 + c * COL;
const OP_W = 80;
const NODE_W = 56;
const LANE = 10;

/**
 * The cell as a layered DAG (the inputs prevPrev and prev, then one column
 * per block): each branch is a box named by its op on the edge from its input
 * to the block, so that no two labels can meet; an edge that skips columns
 * runs in its own lane above or below the rows. Every block feeds the concat
 * (Auto-DeepLab's cell output) along a bus at the bottom.
 */
export function cellSvg(cell: CellGenotype, title = 'cell'): string {
  const B = cell.blocks.length;
  const column = (input: string) => (input === 'prevPrev' || input === 'prev' ? 0 : Number(input.slice(5)) + 1);
  const branches = cell.blocks.flatMap((block, i) => block.map((br, r) => ({ ...br, i, top: r === 0, long: i + 1 - column(br.input) > 1 })));
  const nTop = branches.filter((b) => b.long && b.top).length;
  const nBottom = branches.filter((b) => b.long && !b.top).length;
  const T = 30 + LANE * nTop;
  const mid = T + 45;
  const rowY = (top: boolean) => (top ? T : T + 90);
  const busY = T + 90 + 30 + LANE * nBottom;
  const width = colX(B) + 190;
  const height = busY + 48;
  const source = (input: string): [number, number] =>
    input === 'prevPrev' ? [colX(0) + 32, T] : input === 'prev' ? [colX(0) + 32, T + 90] : [colX(column(input)) + 10 + NODE_W, mid];
  const lines: string[] = [];
  const boxes: string[] = [];
  const lanes = { top: 0, bottom: 0 };
  for (const b of branches) {
    const color = OP_TABLE[b.op].color;
    const [xs, ys] = source(b.input);
    const [xt, yt] = [colX(b.i + 1) - OP_W - 10, rowY(b.top)];
    const d = b.long
      ? (() => {
        const yl = b.top ? T - 20 - LANE * lanes.top++ : T + 110 + LANE * lanes.bottom++;
        return `M${xs},${ys} H${xs + 8} V${yl} H${xt - 10} V${yt} H${xt}`;
      })()
      : `M${xs},${ys} C${xs + 30},${ys} ${xt - 30},${yt} ${xt},${yt}`;
    lines.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round"/>`,
      `<line x1="${xt + OP_W}" y1="${yt}" x2="${colX(b.i + 1) + 10}" y2="${mid}" stroke="${color}" stroke-width="2"/>`);
    boxes.push(`<rect x="${xt}" y="${yt - 13}" width="${OP_W}" height="26" rx="4" fill="white" stroke="${color}" stroke-width="2"/>`,
      `<text x="${xt + OP_W / 2}" y="${yt + 4}" font-size="11" text-anchor="middle">${esc(b.op)}</text>`);
  }
  for (let i = 0; i < B; i++) {
    const x = colX(i + 1) + 10;
    lines.push(`<path d="M${x + NODE_W / 2},${mid + 14} V${busY}" fill="none" stroke="#bbb" stroke-dasharray="3 3"/>`);
    boxes.push(`<rect x="${x}" y="${mid - 14}" width="${NODE_W}" height="28" rx="6" fill="#cfe0f7" stroke="#333"/>`,
      `<text x="${x + NODE_W / 2}" y="${mid + 4}" font-size="11" text-anchor="middle">block${i}</text>`);
  }
  const concatX = colX(B) + 110;
  lines.push(`<path d="M${colX(1) + 10 + NODE_W / 2},${busY} H${concatX}" fill="none" stroke="#bbb" stroke-dasharray="3 3"/>`);
  for (const [name, y] of [['prevPrev', T], ['prev', T + 90]] as const) {
    boxes.push(`<rect x="${colX(0) - 32}" y="${y - 14}" width="64" height="28" rx="6" fill="#eee" stroke="#333"/>`,
      `<text x="${colX(0)}" y="${y + 4}" font-size="11" text-anchor="middle">${name}</text>`);
  }
  boxes.push(`<rect x="${concatX}" y="${busY - 14}" width="60" height="28" rx="6" fill="#fde9c9" stroke="#333"/>`,
    `<text x="${concatX + 30}" y="${busY + 4}" font-size="11" text-anchor="middle">concat</text>`,
    `<text x="8" y="${height - 10}" font-size="12">${esc(title)}: ${B} blocks, each the sum of two ops; the output concatenates every block</text>`);
  return svg(width, height, [...lines, ...boxes], 'cell');
}

/**
 * The cell diagrams of a genotype: `cell` for one cell for all layers, else
 * (alpha per layer) `cell-layerN` for layer N = 1..L (its cells[N - 1]).
 */
export function cellSvgs(genotype: Genotype): { name: string; svg: string }[] {
  if (!genotype.cells) return [{ name: 'cell', svg: cellSvg(cellOfLayer(genotype, 0)) }];
  return genotype.path.map((k, l) => ({
    name: `cell-layer${l + 1}`, svg: cellSvg(cellOfLayer(genotype, l), `cell of layer ${l + 1} (stride ${STRIDES[k]})`),
  }));
}
