/**
 * Decoding (Sec. 4.3): the cell keeps, per block, the two strongest
 * predecessors ranked by their strongest non-zero op, with that op (zero is
 * never chosen); the network path is the most probable path through the
 * trellis with normalised betas as transition probabilities (Viterbi).
 */
import { BlockGenotype, CellGenotype, Level } from '../arch/genotype';
import { cellInputsOf, edgeIndex, numEdges } from '../arch/topology';
import { CellOpName, PRIMITIVES, ZERO } from '../arch/primitives';
import { NetworkTrellis } from '../arch/trellis';

/** alpha: softmaxed weights, numEdges(B) rows of |PRIMITIVES| columns. */
export function decodeCell(alpha: number[][], blocks: number): CellGenotype {
  if (alpha.length !== numEdges(blocks)) {
    throw new RangeError(`decodeCell: alpha has ${alpha.length} rows, ${blocks} blocks need ${numEdges(blocks)}`);
  }
  const out: BlockGenotype[] = [];
  for (let i = 0; i < blocks; i++) {
    const inputs = cellInputsOf(i);
    const best = inputs.map((input, j) => {
      const row = alpha[edgeIndex(i, j)];
      let op = -1;
      row.forEach((w, k) => {
        if (k !== ZERO && (op < 0 || w > row[op])) op = k;
      });
      return { input, op, strength: row[op], j };
    });
    best.sort((a, b) => b.strength - a.strength || a.j - b.j);
    const [a, b] = best.slice(0, 2).sort((x, y) => x.j - y.j);
    out.push([
      { input: a.input, op: PRIMITIVES[a.op] as CellOpName },
      { input: b.input, op: PRIMITIVES[b.op] as CellOpName },
    ]);
  }
  return { blocks: out };
}

/** alpha per layer ([layer][edge][op]) rather than one alpha for every layer ([edge][op]). */
export function isPerLayer(alpha: number[][] | number[][][]): alpha is number[][][] {
  return alpha.length > 0 && Array.isArray(alpha[0][0]);
}

/** Rows of softmax(alpha) as Supernet.snapshot gives them ([edge][op], or [layer][edge][op] per layer), over all layers. */
export function alphaRows(alpha: number[][] | number[][][]): number[][] {
  return isPerLayer(alpha) ? alpha.flat() : alpha;
}

/** alpha per layer ([layer][edge][op], softmaxed): one decoded cell per layer (Sec. 6's untied alpha). */
export function decodeCells(alpha: number[][][], blocks: number): CellGenotype[] {
  return alpha.map((rows) => decodeCell(rows, blocks));
}

/**
 * Viterbi over the trellis. betaHat[l][k][d + 1] is the normalised weight of
 * the arrow from node (l - 1, k) (the stem at level 0 for l = 0) to (l, k + d).
 * Returns the level of each layer on the path of maximum product of weights.
 */
export function viterbiDecode(betaHat: number[][][], trellis: NetworkTrellis): { path: Level[]; logProb: number } {
  const L = trellis.layers;
  let score = new Map<number, number>([[0, 0]]);
  const back: Map<number, number>[] = [];
  for (let l = 0; l < L; l++) {
    const next = new Map<number, number>();
    const from = new Map<number, number>();
    for (const k of trellis.levelsAt(l)) {
      for (const a of trellis.arrowsInto(l, k)) {
        const s = score.get(a.from);
        if (s === undefined) continue;
        const v = s + Math.log(betaHat[l][a.from][a.dir + 1]);
        if (!next.has(k) || v > next.get(k)!) {
          next.set(k, v);
          from.set(k, a.from);
        }
      }
    }
    back.push(from);
    score = next;
  }
  let end = -1;
  for (const [k, v] of score) if (end < 0 || v > score.get(end)!) end = k;
  const path: Level[] = new Array(L);
  let k = end;
  for (let l = L - 1; l >= 0; l--) {
    path[l] = k as Level;
    k = back[l].get(k)!;
  }
  return { path, logProb: score.get(end)! };
}
