/**
 * Architecture diagrams as SVG: the network path on the L x 4 trellis (the
 * paper's Fig. 1 / Fig. 3, with arrow strength from beta and, dashed, each
 * node's strongest outgoing arrow), and the cell as a DAG with op names
 * (one per layer for a genotype with a cell per layer).
 */
import { CellGenotype, cellOfLayer, Genotype, STRIDES } from '../arch/genotype';
import { NetworkTrellis } from '../arch/trellis';
import { esc, svg } from './svg';

const OP_COLORS: Record<string, string> = {
  sep3x3: '#1f77b4', sep5x5: '#17becf', atrous3x3: '#d62728', atrous5x5: '#ff7f0e',
  avgpool3x3: '#2ca02c', maxpool3x3: '#9467bd', skip: '#7f7f7f',
};

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
    `<text x="${width / 2}" y="${height - 14}" font-size="12" text-anchor="middle">layer (path: ${genotype.path.join(' ')})</text>`);
  return svg(width, height, body, 'network path');
}

/** The cell: inputs prevPrev (h1) and prev (h0), blocks, concat; edges coloured and labelled by op. */
export function cellSvg(cell: CellGenotype, title = 'cell'): string {
  const B = cell.blocks.length;
  const width = 200 + B * 120;
  const height = 320;
  const pos = new Map<string, [number, number]>([['prevPrev', [60, 90]], ['prev', [60, 230]]]);
  cell.blocks.forEach((_, i) => pos.set(`block${i}`, [200 + i * 120, i % 2 === 0 ? 110 : 210]));
  const out: [number, number] = [200 + B * 120 - 20, 160];
  const body: string[] = [];
  cell.blocks.forEach((block, i) => {
    const [tx, ty] = pos.get(`block${i}`)!;
    block.forEach((br) => {
      const [sx, sy] = pos.get(br.input)!;
      const color = OP_COLORS[br.op] ?? '#000';
      body.push(`<line x1="${sx}" y1="${sy}" x2="${tx - 26}" y2="${ty}" stroke="${color}" stroke-width="2.2"/>`,
        `<text x="${(sx + tx) / 2 - 10}" y="${(sy + ty) / 2 - 4}" font-size="11" fill="${color}" text-anchor="middle">${esc(br.op)}</text>`);
    });
    body.push(`<line x1="${tx + 26}" y1="${ty}" x2="${out[0] - 30}" y2="${out[1]}" stroke="#bbb" stroke-dasharray="3 3"/>`);
  });
  for (const [name, [px, py]] of pos) {
    const isInput = !name.startsWith('block');
    body.push(`<rect x="${px - 26}" y="${py - 16}" width="52" height="32" rx="6" fill="${isInput ? '#eee' : '#cfe0f7'}" stroke="#333"/>`,
      `<text x="${px}" y="${py + 4}" font-size="11" text-anchor="middle">${name === 'prevPrev' ? 'H(l-2)' : name === 'prev' ? 'H(l-1)' : `b${name.slice(5)}`}</text>`);
  }
  body.push(`<rect x="${out[0] - 30}" y="${out[1] - 16}" width="60" height="32" rx="6" fill="#fde9c9" stroke="#333"/>`,
    `<text x="${out[0]}" y="${out[1] + 4}" font-size="11" text-anchor="middle">concat</text>`,
    `<text x="${width / 2}" y="${height - 12}" font-size="12" text-anchor="middle">${esc(title)}: ${B} blocks, each the sum of two ops</text>`);
  return svg(width, height, body, 'cell');
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
