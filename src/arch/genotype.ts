/**
 * Architectures as plain, validated, JSON-serialisable data. A genotype names
 * a cell (B blocks, each the sum of two ops on two earlier hidden states) and
 * a network path (one output-stride level per layer). `train` builds exactly
 * what this file says; `genotype.schema.json` documents it.
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

export interface Genotype {
  readonly version: 1;
  readonly cell: CellGenotype;
  /** The level of each of the L layers (cells) after the stem. */
  readonly path: readonly Level[];
}

export class GenotypeError extends BadInputError {
  constructor(source: string, field: string, expected: string, got: unknown) {
    super(`${source}: field '${field}' ${expected}, got ${JSON.stringify(got)}`);
  }
}

/** Checks untrusted data (a parsed JSON file) and returns it typed. */
export function validateGenotype(data: unknown, source = 'genotype'): Genotype {
  const fail = (field: string, expected: string, got: unknown): never => {
    throw new GenotypeError(source, field, expected, got);
  };
  if (typeof data !== 'object' || data === null) fail('(root)', 'must be an object', data);
  const g = data as Record<string, unknown>;
  if (g.version !== 1) fail('version', 'must be 1', g.version);
  const cell = g.cell as Record<string, unknown> | undefined;
  if (typeof cell !== 'object' || cell === null) fail('cell', 'must be an object with "blocks"', cell);
  const blocks = cell!.blocks;
  if (!Array.isArray(blocks) || blocks.length < 1) fail('cell.blocks', 'must be a non-empty array of blocks', blocks);
  (blocks as unknown[]).forEach((b, i) => {
    if (!Array.isArray(b) || b.length !== 2) fail(`cell.blocks[${i}]`, 'must be a pair of branches', b);
    const allowed = cellInputsOf(i);
    (b as unknown[]).forEach((branch, j) => {
      const f = `cell.blocks[${i}][${j}]`;
      const br = branch as Record<string, unknown>;
      if (typeof br !== 'object' || br === null) fail(f, 'must be {"input", "op"}', branch);
      if (!allowed.includes(br.input as CellInput)) fail(`${f}.input`, `must be one of ${allowed.join(', ')}`, br.input);
      if (!isPrimitive(br.op) || br.op === 'zero') {
        fail(`${f}.op`, `must be one of ${PRIMITIVES.filter((p) => p !== 'zero').join(', ')}`, br.op);
      }
    });
  });
  const path = g.path;
  if (!Array.isArray(path) || path.length < 1) fail('path', 'must be a non-empty array of levels 0..3', path);
  (path as unknown[]).forEach((k, l) => {
    if (k !== 0 && k !== 1 && k !== 2 && k !== 3) fail(`path[${l}]`, 'must be a level 0..3 (output stride 4, 8, 16, 32)', k);
    const prev = l === 0 ? 0 : (path as number[])[l - 1];
    if (Math.abs((k as number) - prev) > 1) {
      fail(`path[${l}]`, `must differ by at most 1 from the previous level ${prev}${l === 0 ? ' (the stem is at level 0)' : ''}`, k);
    }
  });
  return { version: 1, cell: { blocks: blocks as BlockGenotype[] }, path: path as Level[] };
}

/** The released Auto-DeepLab architecture (the paper's Fig. 3; ../shared/REFERENCE.md). */
export const AUTO_DEEPLAB_GENOTYPE: Genotype = Object.freeze({
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
} as Genotype);

/** The JSON schema that documents genotype files (docs/genotype.schema.json). */
export const GENOTYPE_SCHEMA_ID = 'https://autodeeplab.dev/genotype.schema.json';
