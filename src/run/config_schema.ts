/**
 * One resolver for the search and training configurations: typed field specs
 * (integer, number, boolean, pair) with ranges, defaults overlaid by layers
 * (a --config file, then the flags typed on the command line), and messages
 * that name where the bad value came from (the file or the flag) and the field.
 */
import * as os from 'node:os';
import { ConfigError } from '../util/errors';

interface Range {
  min?: number;
  max?: number;
  /** The bound itself is excluded: (min, ...] or [..., max). */
  minOpen?: boolean;
  maxOpen?: boolean;
  /** Why the range is what it is, added to the message. */
  why?: string;
}

export type FieldSpec =
  | ({ kind: 'int' } & Range)
  | ({ kind: 'number' } & Range)
  | { kind: 'boolean' }
  /** One of a few literal values (e.g. true, false or "auto"). */
  | { kind: 'choice'; values: readonly (string | boolean | number)[] }
  /** Two numbers, each in the range; ordered: first <= second. */
  | ({ kind: 'pair'; ordered?: boolean } & Range);

export type Schema<C> = { readonly [K in keyof C]-?: FieldSpec };

/** Values from one place: a file, the flags, the dataset. source names that place, or the flag of a field. */
export interface ConfigLayer {
  values: Record<string, unknown>;
  source: string | ((field: string) => string);
}

/** libtorch intra-op threads: more than the machine's cores only slows down (and thousands hang it). */
export const threadsSpec = (): FieldSpec => ({ kind: 'int', min: 1, max: os.availableParallelism(), why: 'the cores of this machine' });

function rangeText(r: Range): string {
  const lo = r.min === undefined ? '' : `${r.minOpen ? '(' : '['}${r.min}`;
  const hi = r.max === undefined ? '' : `${r.max}${r.maxOpen ? ')' : ']'}`;
  if (lo && hi) return `in ${lo}, ${hi}`;
  if (lo) return `${r.minOpen ? '>' : '>='} ${r.min}`;
  return hi ? `${r.maxOpen ? '<' : '<='} ${r.max}` : '';
}

function inRange(v: number, r: Range): boolean {
  if (r.min !== undefined && (r.minOpen ? !(v > r.min) : !(v >= r.min))) return false;
  return r.max === undefined || (r.maxOpen ? v < r.max : v <= r.max);
}

/** What is wrong with v under spec, or null. */
export function checkField(spec: FieldSpec, v: unknown): string | null {
  const why = 'why' in spec && spec.why ? ` (${spec.why})` : '';
  switch (spec.kind) {
    case 'boolean':
      return typeof v === 'boolean' ? null : 'must be true or false';
    case 'choice':
      return spec.values.includes(v as string | boolean | number) ? null : `must be one of ${spec.values.map((x) => JSON.stringify(x)).join(', ')}`;
    case 'int':
    case 'number': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a${spec.kind === 'int' ? 'n integer' : ' number'}`;
      if (spec.kind === 'int' && !Number.isInteger(v)) return 'must be an integer';
      return inRange(v, spec) ? null : `must be ${rangeText(spec)}${why}`;
    }
    case 'pair': {
      const ok = Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'number' && inRange(x, spec));
      if (ok && !(spec.ordered && v[0] > v[1])) return null;
      return `must be two numbers [a, b]${spec.ordered ? ' with a <= b' : ''}, each ${rangeText(spec)}${why}`;
    }
  }
}

/**
 * Defaults overlaid by layers (later wins), every field checked against the
 * schema, then `check` for relations between fields. Errors are ConfigErrors
 * (exit 2): "<source>: field '<name>' <expected>, got <value>".
 */
export function resolveConfig<C extends object>(
  name: string, defaults: Readonly<C>, schema: Schema<C>, layers: ConfigLayer[],
  check?: (c: C, bad: (field: keyof C & string, expected: string) => never) => void,
): Readonly<C> {
  const known = Object.keys(schema);
  const sourceOf: Record<string, string> = {};
  const merged: Record<string, unknown> = { ...defaults };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer.values)) {
      const src = typeof layer.source === 'string' ? layer.source : layer.source(k);
      if (!known.includes(k)) throw new ConfigError(`${src}: unknown field '${k}' (known: ${known.join(', ')})`);
      if (v === undefined) continue;
      merged[k] = v;
      sourceOf[k] = src;
    }
  }
  const bad = (field: string, expected: string): never => {
    throw new ConfigError(`${sourceOf[field] ?? `${name} defaults`}: field '${field}' ${expected}, got ${JSON.stringify(merged[field])}`);
  };
  for (const k of known) {
    const problem = checkField((schema as Record<string, FieldSpec>)[k], merged[k]);
    if (problem) bad(k, problem);
  }
  const c = merged as C;
  check?.(c, bad);
  return Object.freeze(c);
}

/** The fields whose values differ between two configurations, as "field: saved X, now Y" (for a refused resume). */
export function configDifferences(saved: Record<string, unknown>, now: Record<string, unknown>, prefix = ''): string[] {
  const keys = [...new Set([...Object.keys(saved), ...Object.keys(now)])];
  return keys.flatMap((k) => {
    const [a, b] = [JSON.stringify(saved[k]), JSON.stringify(now[k])];
    return a === b ? [] : [`${prefix}${k}: saved ${a ?? '(none)'}, now ${b ?? '(none)'}`];
  });
}
