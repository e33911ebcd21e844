/**
 * The genotype file, and its one owner: reads (validated, with the flag and
 * file in every error), writes (atomically, with the search record beside the
 * architecture) and the schema (docs/genotype.schema.json, whose op enum is
 * tested against PRIMITIVES). Everything that touches genotype.json goes
 * through here.
 */
import * as path from 'node:path';
import { BadInputError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { readJsonFile } from '../util/json';
import { BlockGenotype, CellGenotype, Genotype, Level } from './genotype';
import { isPrimitive, PRIMITIVES } from './primitives';
import { CellInput, cellInputsOf } from './topology';

/** The JSON schema that documents genotype files (docs/genotype.schema.json). */
export const GENOTYPE_SCHEMA_ID = 'https://autodeeplab.dev/genotype.schema.json';

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

/** Reads and validates a genotype file (as `search` writes it); errors name `flag` and the file. */
export function loadGenotype(file: string, flag = '--genotype'): Genotype {
  return validateGenotype(readJsonFile(file, flag), file);
}

/**
 * The genotype in `file` and, when search wrote it, the beta it was decoded
 * from. beta has one row per layer (beta[l][k][d+1], docs/genotype.schema.json):
 * a path of another length was not decoded from it, so the file was edited
 * inconsistently and its diagram would draw the wrong arrows.
 */
export function readGenotypeFile(file: string, flag = '--genotype'): { genotype: Genotype; beta?: number[][][] } {
  const genotype = loadGenotype(file, flag);
  const raw = readJsonFile(file, flag) as { search?: { beta?: unknown } };
  const beta = raw.search?.beta;
  if (beta === undefined) return { genotype };
  if (!Array.isArray(beta) || beta.length !== genotype.path.length) {
    throw new GenotypeError(file, 'search.beta', `must have one row per layer of the path (${genotype.path.length})`,
      Array.isArray(beta) ? `${beta.length} rows` : beta);
  }
  return { genotype, beta: beta as number[][][] };
}

/** The file's text: the schema, the architecture, and what the search adds (`search`: epoch, alpha, beta, budget). */
export function genotypeFileText(genotype: Genotype, search?: Record<string, unknown>): string {
  const record = { $schema: GENOTYPE_SCHEMA_ID, ...genotype, ...(search ? { search } : {}) };
  return JSON.stringify(record, null, 1) + '\n';
}

/** Writes genotype.json-style `file` atomically (complete or not at all). */
export function writeGenotypeFile(file: string, genotype: Genotype, search?: Record<string, unknown>): void {
  writeFileAtomic(file, genotypeFileText(genotype, search));
}

/** The files a search writes in its run directory: genotype.json, and genotypes/epoch-NNN.json at an epoch's end. */
export function searchGenotypeFiles(out: string, epoch?: number): string[] {
  const latest = path.join(out, 'genotype.json');
  return epoch === undefined ? [latest] : [path.join(out, 'genotypes', `epoch-${String(epoch).padStart(3, '0')}.json`), latest];
}
