/** Genotype files as the CLI reads them: validated, and consistent with the search record they carry. */
import { Genotype, GenotypeError } from '../arch/genotype';
import { loadGenotype } from '../model/presets';
import { readJsonFile } from '../util/json';

/**
 * The genotype in `file` and, when search wrote it, the beta it was decoded
 * from. beta has one row per layer (beta[l][k][d+1], docs/genotype.schema.json):
 * a path of another length was not decoded from it, so the file was edited
 * inconsistently and its diagram would draw the wrong arrows.
 */
export function readGenotypeFile(file: string): { genotype: Genotype; beta?: number[][][] } {
  const genotype = loadGenotype(file);
  const raw = readJsonFile(file, '--genotype') as { search?: { beta?: unknown } };
  const beta = raw.search?.beta;
  if (beta === undefined) return { genotype };
  if (!Array.isArray(beta) || beta.length !== genotype.path.length) {
    throw new GenotypeError(file, 'search.beta', `must have one row per layer of the path (${genotype.path.length})`,
      Array.isArray(beta) ? `${beta.length} rows` : beta);
  }
  return { genotype, beta: beta as number[][][] };
}
