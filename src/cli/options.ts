/** Option parsers shared by the commands: each names the flag and what it expects. */
import { InvalidArgumentError } from 'commander';
import * as os from 'node:os';
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

/** An integer in lo..hi; why: the reason for the bounds, in the message. */
export function intIn(lo: number, hi: number, why?: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected an integer in ${lo}..${hi}${why ? ` (${why})` : ''}, got '${v}'`);
    return n;
  };
}

/** A number in [lo, hi], or (lo, hi] when loOpen: e.g. a momentum or a keep probability. */
export function numIn(lo: number, hi: number, loOpen = false) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || (loOpen ? !(n > lo) : n < lo) || n > hi) {
      throw new InvalidArgumentError(`expected a number in ${loOpen ? '(' : '['}${lo}, ${hi}], got '${v}'`);
    }
    return n;
  };
}

/** More libtorch threads than cores only slows down; thousands of them hang the process (and Ctrl-C). */
export const MAX_THREADS = os.availableParallelism();

export const threadsArg = intIn(1, MAX_THREADS, 'the cores of this machine');

/**
 * --nproc: each local process needs a thread of its own, so more processes
 * than cores only thrash (and hundreds of them exhaust memory before they
 * join: issue 22).
 */
export const nprocArg = intIn(1, MAX_THREADS, 'the cores of this machine: each process needs at least one thread');

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

/** Multi-scale inference: each scale is a full forward pass, and an image scaled by s costs s^2. */
export const SCALES = { max: 8, min: 0.25, maxScale: 4 } as const;

/** --scales 0.5,0.75,1: 1 to 8 numbers in [0.25, 4], separated by commas. */
export function scaleList(v: string): number[] {
  const s = v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (s.length > SCALES.max || s.some((x) => !(x >= SCALES.min && x <= SCALES.maxScale))) {
    throw new InvalidArgumentError(`expected 1 to ${SCALES.max} numbers in [${SCALES.min}, ${SCALES.maxScale}] separated by commas, got '${v}'`);
  }
  return s;
}


/** --size HxW, each side at least 16 pixels. */
export function sizeArg(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(v);
  const [h, w] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || h < 16 || w < 16 || h > 16384 || w > 16384) throw new InvalidArgumentError(`expected HxW from 16x16 to 16384x16384, e.g. 1024x2048, got '${v}'`);
  return [Number(m[1]), Number(m[2])];
}

/** A fraction in [0, 1] (e.g. --opacity). */
export function unitInterval(v: string): number {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`expected a number in [0, 1], got '${v}'`);
  return n;
}
