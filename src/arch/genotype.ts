/**
 * Architectures as plain, validated, JSON-serialisable data. A genotype names
 * a cell (B blocks, each the sum of two ops on two earlier hidden states) and
 * a network path (one output-stride level per layer). With alpha untied across
 * layers (search --alpha-per-layer, the paper's Sec. 6) it names one cell per
 * layer instead (`cells`, one per entry of `path`); everything reads a layer's
 * cell through `cellOfLayer`. `train` builds exactly what this file says;
 * genotype_file.ts reads, validates and writes it;
 * docs/genotype.schema.json documents it.
 */
import { CellOpName } from './primitives';
import { CellInput } from './topology';

export interface BlockBranch {
  readonly input: CellInput;
  readonly op: CellOpName;
}

/** A block: the sum of two branches. */
export type BlockGenotype = readonly [BlockBranch, BlockBranch];

export interface CellGenotype {
  readonly blocks: readonly BlockGenotype[];
}

/** Levels 0..3 are output strides 4, 8, 16, 32. */
export type Level = 0 | 1 | 2 | 3;
export const STRIDES = [4, 8, 16, 32] as const;

interface GenotypeBase {
  readonly version: 1;
  /** The level of each of the L layers (cells) after the stem. */
  readonly path: readonly Level[];
}

/** One cell for every layer (the paper's search), or one cell per layer (`cells[l]` for layer l). */
export type Genotype = GenotypeBase & (
  | { readonly cell: CellGenotype; readonly cells?: undefined }
  | { readonly cells: readonly CellGenotype[]; readonly cell?: undefined });

/** The cell of layer l (0-based, l < path.length). */
export function cellOfLayer(g: Genotype, l: number): CellGenotype {
  if (!Number.isInteger(l) || l < 0 || l >= g.path.length) throw new RangeError(`cellOfLayer: layer ${l} outside 0..${g.path.length - 1}`);
  return g.cells ? g.cells[l] : g.cell!;
}

/** The distinct cells of a genotype with the layers that use each, in layer order. */
export function distinctCells(g: Genotype): { cell: CellGenotype; layers: number[] }[] {
  const out: { cell: CellGenotype; key: string; layers: number[] }[] = [];
  g.path.forEach((_, l) => {
    const cell = cellOfLayer(g, l);
    const key = JSON.stringify(cell);
    const seen = out.find((c) => c.key === key);
    if (seen) seen.layers.push(l);
    else out.push({ cell, key, layers: [l] });
  });
  return out.map(({ cell, layers }) => ({ cell, layers }));
}

/** The released Auto-DeepLab architecture (the paper's Fig. 3; docs/reference.md). */
export const AUTO_DEEPLAB_GENOTYPE: Genotype & { readonly cell: CellGenotype } = Object.freeze({
  version: 1,
  cell: {
    blocks: [
      [{ input: 'prevPrev', op: 'atrous5x5' }, { input: 'prev', op: 'sep3x3' }],
      [{ input: 'prevPrev', op: 'sep3x3' }, { input: 'prev', op: 'atrous3x3' }],
      [{ input: 'block1', op: 'sep3x3' }, { input: 'prevPrev', op: 'sep3x3' }],
      [{ input: 'block2', op: 'sep5x5' }, { input: 'block0', op: 'sep5x5' }],
      [{ input: 'block1', op: 'sep5x5' }, { input: 'block3', op: 'atrous5x5' }],
    ],
  },
  path: [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1],
} as Genotype & { readonly cell: CellGenotype });
