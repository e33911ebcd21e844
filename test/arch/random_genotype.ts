/** Seeded random cells and paths for the cost and budget tests. */
import { BlockGenotype, CellGenotype, Level } from '../../src/arch/genotype';
import { CellOpName, PRIMITIVES } from '../../src/arch/primitives';
import { cellInputsOf } from '../../src/arch/topology';
import { NetworkTrellis } from '../../src/arch/trellis';
import { jsRandom } from '../helpers';

export const CELL_OPS = PRIMITIVES.filter((p) => p !== 'zero') as CellOpName[];

export function randomCell(blocks: number, seed: number): CellGenotype {
  const r = jsRandom(seed);
  const pick = <X>(xs: readonly X[]) => xs[Math.floor(r() * xs.length)];
  return {
    blocks: Array.from({ length: blocks }, (_, i) => {
      const inputs = cellInputsOf(i);
      const a = Math.floor(r() * inputs.length);
      let b = Math.floor(r() * (inputs.length - 1));
      if (b >= a) b++;
      return [a, b].sort((x, y) => x - y).map((j) => ({ input: inputs[j], op: pick(CELL_OPS) })) as unknown as BlockGenotype;
    }),
  };
}

export function randomPath(layers: number, seed: number, levels = 4): Level[] {
  const r = jsRandom(seed);
  const t = new NetworkTrellis(layers, levels);
  const path: Level[] = [];
  let k = 0;
  for (let l = 0; l < layers; l++) {
    const arrows = t.arrowsFrom(l, k);
    k = arrows[Math.floor(r() * arrows.length)].to;
    path.push(k as Level);
  }
  return path;
}

/** Random transition rows (softmax-like) on real arrows, 0 elsewhere. */
export function randomBeta(trellis: NetworkTrellis, seed: number, sharp = 2): number[][][] {
  const r = jsRandom(seed);
  return Array.from({ length: trellis.layers }, (_, l) => Array.from({ length: trellis.levels }, (_, k) => {
    const e = [-1, 0, 1].map((d) => (trellis.hasNode(l - 1, k) && trellis.hasNode(l, k + d) ? Math.exp(sharp * (2 * r() - 1)) : 0));
    const z = e.reduce((a, b) => a + b, 0) || 1;
    return e.map((v) => v / z);
  }));
}
