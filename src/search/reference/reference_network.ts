/**
 * The reference supernet: the same network (stem, trellis, Eq. 6, heads) with
 * the op-by-op cells of ./reference_cell.ts, and the map from the fused supernet's
 * weights to its own, with which the equivalence tests run both on the same
 * weights and compare outputs and every gradient.
 */
import * as T from '../../engine';
import { ATROUS_OPS, SEP_OPS } from '../../arch/primitives';
import { targetsOf } from '../../arch/topology';
import { MixedCell } from '../fused_cell';
import { SearchSpaceConfig } from '../search_config';
import { Supernet, SupernetOptions } from '../supernet';
import { ReferenceCell, ReferenceCells } from './reference_cell';

export function referenceSupernet(cfg: SearchSpaceConfig, o: Omit<SupernetOptions, 'cells'> = {}): Supernet {
  return new Supernet(cfg, { ...o, cells: (_blocks, untied) => new ReferenceCells(untied) });
}

/** A reference weight and where it lives in the fused supernet: rows [start, start + count) of `fused` (all rows when null). */
export interface WeightPair {
  name: string;
  reference: T.Tensor;
  fused: T.Tensor;
  rows: [number, number] | null;
}

/** The fused weight's rows that a reference weight holds (a view). */
export function fusedSlice(p: WeightPair, t: T.Tensor = p.fused): T.Tensor {
  return p.rows ? T.narrow(t, 0, p.rows[0], p.rows[1]) : t;
}

/** Cell weights: edge (source j -> block i) of weight copy g (the arrow, untied) is slot t of source j's fused ops. */
function cellPairs(name: string, fused: MixedCell, ref: ReferenceCell): WeightPair[] {
  const C = fused.channels;
  const out: WeightPair[] = [];
  for (const src of fused.sources) {
    const [E, G] = [src.edges, src.copies];
    for (let g = 0; g < G; g++) {
      targetsOf(src.source, fused.blocks).forEach((i, t) => {
        const ops = new Map(ref.edgeSets[g][i][src.source].ops);
        const at = `${name}${ref.untied ? `.arrow${g}` : ''}.block${i}.from${src.source}`;
        const pair = (op: string, w: string, fusedT: T.Tensor, start: number) =>
          out.push({ name: `${at}.${op}.${w}`, reference: ops.get(op as never)!.weights[w], fused: fusedT, rows: [start, C] });
        SEP_OPS.forEach((op, s) => {
          pair(op, 'dw1', src.dw1[s], (g * E + t) * C);
          pair(op, 'pw1', src.pw1, ((s * G + g) * E + t) * C);
          pair(op, 'dw2', src.dw2[s], (g * E + t) * C);
          pair(op, 'pw2', src.pw2, ((s * G + g) * E + t) * C);
        });
        ATROUS_OPS.forEach((op, a) => pair(op, 'conv', src.atrous[a], (g * E + t) * C));
      });
    }
  }
  return out;
}

/** Every weight of `reference` paired with its place in `fused` (same config; cells by layout, the rest by name). */
export function referenceWeightMap(fused: Supernet, reference: Supernet): WeightPair[] {
  const byName = new Map(fused.weights.namedParameters());
  const pairs: WeightPair[] = [];
  fused.nodes.forEach((row, l) => row.forEach((node, k) => {
    const f = node.cell;
    const r = reference.nodes[l][k].cell;
    if (!(f instanceof MixedCell) || !(r instanceof ReferenceCell)) throw new Error('referenceWeightMap: expects a fused and a reference supernet');
    pairs.push(...cellPairs(`layer${l}.level${node.level}.cell`, f, r));
  }));
  const mapped = new Set(pairs.map((p) => p.reference));
  for (const [name, t] of reference.weights.namedParameters()) {
    if (mapped.has(t)) continue;
    const f = byName.get(name);
    if (!f) throw new Error(`referenceWeightMap: '${name}' has no counterpart in the fused supernet`);
    pairs.push({ name, reference: t, fused: f, rows: null });
  }
  return pairs;
}

/** Copies the fused supernet's weights and alpha, beta into the reference one. */
export function loadFusedWeights(fused: Supernet, reference: Supernet): WeightPair[] {
  const pairs = referenceWeightMap(fused, reference);
  T.noGrad(() => T.tidy(() => {
    for (const p of pairs) T.assign(p.reference, fusedSlice(p));
    T.assign(reference.alpha, fused.alpha); // (numEdges, |PRIMITIVES|), or (L, numEdges, |PRIMITIVES|) per layer
    T.assign(reference.beta, fused.beta);
  }));
  return pairs;
}
