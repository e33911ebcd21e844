import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE, GENOTYPE_SCHEMA_ID, validateGenotype } from '../../src/arch/genotype';
import { PRIMITIVES } from '../../src/arch/primitives';

const schemaFile = path.resolve(__dirname, '..', '..', '..', 'docs', 'genotype.schema.json');

describe('genotype files', () => {
  it('the released architecture validates and round-trips through JSON', () => {
    const g = validateGenotype(JSON.parse(JSON.stringify(AUTO_DEEPLAB_GENOTYPE)), 'released');
    assert.deepEqual(g, AUTO_DEEPLAB_GENOTYPE);
  });

  it('the JSON schema names the same ops and levels as the code', () => {
    const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8'));
    assert.equal(schema.$id, GENOTYPE_SCHEMA_ID);
    const ops = schema.properties.cell.properties.blocks.items.items.properties.op.enum;
    assert.deepEqual(ops, PRIMITIVES.filter((p) => p !== 'zero'));
    assert.deepEqual(schema.properties.path.items.enum, [0, 1, 2, 3]);
  });

  it('invalid genotypes name the field and what was expected', () => {
    const bad = (patch: (g: Record<string, unknown>) => void) => {
      const g = JSON.parse(JSON.stringify(AUTO_DEEPLAB_GENOTYPE)) as Record<string, unknown>;
      patch(g);
      return () => validateGenotype(g, 'my.json');
    };
    assert.throws(bad((g) => ((g.cell as { blocks: unknown[][] }).blocks[0][1] = { input: 'prev', op: 'zero' })),
      /my.json: field 'cell.blocks\[0\]\[1\].op' must be one of sep3x3, .*, got "zero"/);
    assert.throws(bad((g) => ((g.cell as { blocks: unknown[][] }).blocks[1][0] = { input: 'block3', op: 'skip' })),
      /field 'cell.blocks\[1\]\[0\].input' must be one of prevPrev, prev, block0, got "block3"/);
    assert.throws(bad((g) => (g.path = [0, 2])), /field 'path\[1\]' must differ by at most 1 from the previous level 0/);
    assert.throws(bad((g) => (g.path = [1, 3, 4])), /field 'path\[1\]'/);
    assert.throws(bad((g) => (g.path = [5])), /field 'path\[0\]' must be a level 0..3/);
    assert.throws(bad((g) => (g.version = 2)), /field 'version' must be 1/);
    assert.throws(() => validateGenotype(null, 'x.json'), /x.json: field '\(root\)' must be an object/);
  });
});
