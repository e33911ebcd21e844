/** Reading JSON files with errors that name the flag and the file. */
import * as fs from 'node:fs';
import { BadInputError } from './errors';

export function readJsonFile(file: string, flag: string): unknown {
  if (!fs.existsSync(file)) throw new BadInputError(`${flag}: ${file} does not exist`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new BadInputError(`${flag}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}
