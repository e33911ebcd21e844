/** The one config resolver: ranges at their bounds, layer order, and messages naming the source and the field. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as os from 'node:os';
import { checkField, configDifferences, FieldSpec, resolveConfig } from '../../src/run/config_schema';
import { DEFAULT_SEARCH_CONFIG, resolveSearchConfig } from '../../src/search/search_config';
import { DEFAULT_TRAIN_CONFIG, resolveTrainConfig } from '../../src/train/train_config';
import { ConfigError } from '../../src/util/errors';

describe('config resolver', () => {
  it('accepts exactly the values a plain predicate accepts, at and around every bound', () => {
    const specs: [FieldSpec, (v: number) => boolean][] = [
      [{ kind: 'int', min: 1, max: 4 }, (v) => Number.isInteger(v) && v >= 1 && v <= 4],
      [{ kind: 'number', min: 0, max: 1 }, (v) => v >= 0 && v <= 1],
      [{ kind: 'number', min: 0, max: 1, minOpen: true }, (v) => v > 0 && v <= 1],
      [{ kind: 'number', min: 0, max: 1, maxOpen: true }, (v) => v >= 0 && v < 1],
    ];
    const values = [-1, -1e-9, 0, 1e-9, 0.5, 1, 1 + 1e-9, 1.5, 2, 4, 4.5, 5, NaN, Infinity];
    for (const [spec, oracle] of specs) {
      for (const v of values) assert.equal(checkField(spec, v) === null, oracle(v), `${JSON.stringify(spec)} on ${v}`);
      assert.notEqual(checkField(spec, '1'), null, 'a string is not a number');
    }
    const pair: FieldSpec = { kind: 'pair', min: 0, minOpen: true, ordered: true };
    for (const [v, ok] of [[[0.5, 2], true], [[1, 1], true], [[2, 0.5], false], [[0, 1], false], [[1], false], [[1, 2, 3], false], ['x', false]] as const) {
      assert.equal(checkField(pair, v) === null, ok, JSON.stringify(v));
    }
    assert.equal(checkField({ kind: 'boolean' }, false), null);
    assert.notEqual(checkField({ kind: 'boolean' }, 0), null);
    const choice: FieldSpec = { kind: 'choice', values: [true, false, 'auto'] };
    for (const [v, ok] of [[true, true], [false, true], ['auto', true], ['Auto', false], [1, false], [null, false], ['true', false]] as const) {
      assert.equal(checkField(choice, v) === null, ok, JSON.stringify(v));
    }
    assert.equal(checkField(choice, 'on'), 'must be one of true, false, "auto"');
  });

  it('later layers win; a bad value is reported under the layer (file or flag) that set it', () => {
    const schema = { a: { kind: 'int', min: 1 }, b: { kind: 'number', min: 0 } } as const;
    const defaults = { a: 1, b: 0.5 };
    const file = { values: { a: 3, b: 2 }, source: 'cfg.json' };
    const flags = { values: { a: 7 }, source: (f: string) => `--${f}` };
    assert.deepEqual({ ...resolveConfig('t', defaults, schema, [file, flags]) }, { a: 7, b: 2 });
    assert.throws(() => resolveConfig('t', defaults, schema, [file, { values: { a: 0 }, source: (f: string) => `--${f}` }]),
      (e: Error) => e instanceof ConfigError && e.message === "--a: field 'a' must be >= 1, got 0");
    assert.throws(() => resolveConfig('t', defaults, schema, [{ values: { b: -1 }, source: 'cfg.json' }, flags]),
      /^ConfigError: cfg.json: field 'b' must be >= 0, got -1$/);
    assert.throws(() => resolveConfig('t', defaults, schema, [{ values: { c: 1 }, source: 'cfg.json' }]), /cfg.json: unknown field 'c' \(known: a, b\)/);
  });

  it('search and train configs: defaults resolve; threads bounded by the cores; relations between fields checked', () => {
    assert.deepEqual({ ...resolveSearchConfig() }, { ...DEFAULT_SEARCH_CONFIG });
    assert.deepEqual({ ...resolveTrainConfig({}) }, { ...DEFAULT_TRAIN_CONFIG });
    const cores = os.availableParallelism();
    assert.equal(resolveSearchConfig({ threads: cores }).threads, cores);
    assert.throws(() => resolveSearchConfig({ threads: cores + 1 }, 'f.json'), new RegExp(`f.json: field 'threads' must be in \\[1, ${cores}\\]`));
    assert.throws(() => resolveTrainConfig({ threads: 0 }, 'f.json'), /f.json: field 'threads' must be in \[1, /);
    assert.throws(() => resolveSearchConfig({ epochs: 4, archStartEpoch: 5 }), /field 'archStartEpoch' must be <= epochs \(4\), got 5/);
    assert.throws(() => resolveSearchConfig({ archBetas: [0.9, 1] }), /field 'archBetas' must be two numbers/);
    assert.throws(() => resolveTrainConfig({ scale: [2, 0.5] }), /field 'scale' must be two numbers \[a, b\] with a <= b/);
    assert.throws(() => resolveTrainConfig({ momentum: 5 }), /field 'momentum' must be in \[0, 1\], got 5/);
    assert.throws(() => resolveSearchConfig({ recompute: 'yes' as never }, 'f.json'), /f.json: field 'recompute' must be one of true, false, "auto", got "yes"/);
  });

  it('configDifferences names only the fields that differ, with both values', () => {
    assert.deepEqual(configDifferences({ a: 1, b: [1, 2], c: 'x' }, { a: 1, b: [1, 3], c: 'x', d: true }),
      ['b: saved [1,2], now [1,3]', 'd: saved (none), now true']);
    assert.deepEqual(configDifferences({ a: 1 }, { a: 1 }), []);
  });
});
