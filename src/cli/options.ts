/** Option parsers shared by the commands: each names the flag and what it expects. */
import * as fs from 'node:fs';
import { InvalidArgumentError } from 'commander';

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
  if (!fs.existsSync(file)) throw new Error(`--config: ${file} does not exist`);
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`--config: ${file} is not valid JSON (${(e as Error).message})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new Error(`--config: ${file} must hold a JSON object`);
  return data as Record<string, unknown>;
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** Ctrl-C once: finish the step and save; twice: exit now. */
export function gracefulStop(label: string): () => boolean {
  let requested = false;
  const handler = () => {
    if (requested) process.exit(130);
    requested = true;
    process.stderr.write(`\n${label}: stopping after this iteration (checkpoint follows); press Ctrl-C again to abort\n`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => requested;
}
