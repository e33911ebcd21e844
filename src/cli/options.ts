/** Option parsers shared by the commands: each names the flag and what it expects. */
import { InvalidArgumentError } from 'commander';
import { readJsonFile } from '../util/json';
import { BadInputError } from '../util/errors';

export function int(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${v}'`);
    return n;
  };
}

export function num(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(`expected a number >= ${min}, got '${v}'`);
    return n;
  };
}

/** Reads a JSON config file; errors name the file. */
export function readJsonConfig(file: string): Record<string, unknown> {
  const data = readJsonFile(file, '--config');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new BadInputError(`--config: ${file} must hold a JSON object`);
  return data as Record<string, unknown>;
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Ctrl-C once: finish the step and save; twice: exit now. */
export function gracefulStop(label: string): () => boolean {
  let requested = false;
  const handler = () => {
    if (requested) process.exit(130); // EXIT.interrupted
    requested = true;
    process.stderr.write(`\n${label}: stopping after this iteration (checkpoint follows); press Ctrl-C again to abort\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => requested;
}

/** --scales 0.5,0.75,1: positive numbers separated by commas. */
export function scaleList(v: string): number[] {
  const s = v.split(',').map(Number);
  if (s.length === 0 || s.some((x) => !(x > 0))) throw new InvalidArgumentError(`expected positive numbers separated by commas, got '${v}'`);
  return s;
}


/** --size HxW, each side at least 16 pixels. */
export function sizeArg(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  if (!m || Number(m[1]) < 16 || Number(m[2]) < 16) throw new InvalidArgumentError(`expected HxW of at least 16x16, e.g. 1024x2048, got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}
