/**
 * Architectures as plain, validated, JSON-serialisable data. A genotype names
 * a cell (B blocks, each the sum of two ops on two earlier hidden states) and
 * a network path (one output-stride level per layer). With alpha untied across
 * layers (search --alpha-per-layer, the paper's Sec. 6) it names one cell per
 * layer instead (`cells`, one per entry of `path`); everything reads a layer's
 * cell through `cellOfLayer`. `train` builds exactly what this file says;
 * `genotype.schema.json` documents it.
 */
import { BadInputError } from '../util/errors';
import { CellInput, cellInputsOf } from './topology';
import { CellOpName, isPrimitive, PRIMITIVES } from './primitives';

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

export class GenotypeError extends BadInputError {
  constructor(source: string, field: string, expected: string, got: unknown) {
    super(`${source}: field '${field}' ${expected}, got ${JSON.stringify(got)}`);
  }
}

/** Checks untrusted cell data at `field` (e.g. 'cell' or 'cells[3]') and returns it typed. */
function validateCell(data: unknown, field: string, fail: (field: string, expected: string, got: unknown) => never): CellGenotype {
  const cell = data as Record<string, unknown> | undefined;
  if (typeof cell !== 'object' || cell === null) fail(field, 'must be an object with "blocks"', cell);
  const blocks = cell!.blocks;
  if (!Array.isArray(blocks) || blocks.length < 1) fail(`${field}.blocks`, 'must be a non-empty array of blocks', blocks);
  (blocks as unknown[]).forEach((b, i) => {
    if (!Array.isArray(b) || b.length !== 2) fail(`${field}.blocks[${i}]`, 'must be a pair of branches', b);
    const allowed = cellInputsOf(i);
    (b as unknown[]).forEach((branch, j) => {
      const f = `${field}.blocks[${i}][${j}]`;
      const br = branch as Record<string, unknown>;
      if (typeof br !== 'object' || br === null) fail(f, 'must be {"input", "op"}', branch);
      if (!allowed.includes(br.input as CellInput)) fail(`${f}.input`, `must be one of ${allowed.join(', ')}`, br.input);
      if (!isPrimitive(br.op) || br.op === 'zero') {
        fail(`${f}.op`, `must be one of ${PRIMITIVES.filter((p) => p !== 'zero').join(', ')}`, br.op);
      }
    });
  });
  return { blocks: blocks as BlockGenotype[] };
}

/** Checks untrusted data (a parsed JSON file) and returns it typed: `cell` (every layer) or `cells` (one per layer), not both. */
export function validateGenotype(data: unknown, source = 'genotype'): Genotype {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new GenotypeError(source, field, expected, got);
  };
  if (typeof data !== 'object' || data === null) fail('(root)', 'must be an object', data);
  const g = data as Record<string, unknown>;
  if (g.version !== 1) fail('version', 'must be 1', g.version);
  const path = g.path;
  if (!Array.isArray(path) || path.length < 1) fail('path', 'must be a non-empty array of levels 0..3', path);
  (path as unknown[]).forEach((k, l) => {
    if (k !== 0 && k !== 1 && k !== 2 && k !== 3) fail(`path[${l}]`, 'must be a level 0..3 (output stride 4, 8, 16, 32)', k);
    const prev = l === 0 ? 0 : (path as number[])[l - 1];
    if (Math.abs((k as number) - prev) > 1) {
      fail(`path[${l}]`, `must differ by at most 1 from the previous level ${prev}${l === 0 ? ' (the stem is at level 0)' : ''}`, k);
    }
  });
  if (g.cells === undefined) return { version: 1, cell: validateCell(g.cell, 'cell', fail), path: path as Level[] };
  if (g.cell !== undefined) fail('cells', 'must not be given together with "cell" (one cell for all layers, or one per layer)', '(both)');
  const L = (path as unknown[]).length;
  if (!Array.isArray(g.cells) || g.cells.length !== L) {
    fail('cells', `must be an array of one cell per layer of the path (${L})`, Array.isArray(g.cells) ? `${g.cells.length} cells` : g.cells);
  }
  return { version: 1, cells: (g.cells as unknown[]).map((c, l) => validateCell(c, `cells[${l}]`, fail)), path: path as Level[] };
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

/** The JSON schema that documents genotype files (docs/genotype.schema.json). */
export const GENOTYPE_SCHEMA_ID = 'https://autodeeplab.dev/genotype.schema.json';
