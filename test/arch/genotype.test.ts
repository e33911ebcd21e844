import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AUTO_DEEPLAB_GENOTYPE, cellOfLayer, distinctCells } from '../../src/arch/genotype';
import { GENOTYPE_SCHEMA_ID, validateGenotype } from '../../src/arch/genotype_file';
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

  it('old files with one cell still load; a cell per layer ("cells") validates, one per layer of the path', () => {
    // A file as search wrote it before cells per layer existed (and as it still writes it by default).
    const old = JSON.parse(JSON.stringify({ $schema: GENOTYPE_SCHEMA_ID, ...AUTO_DEEPLAB_GENOTYPE, search: { epoch: 3, alpha: [], beta: [] } }));
    const g = validateGenotype(old, 'old.json');
    assert.deepEqual(g, AUTO_DEEPLAB_GENOTYPE);
    g.path.forEach((_, l) => assert.deepEqual(cellOfLayer(g, l), AUTO_DEEPLAB_GENOTYPE.cell));
    assert.throws(() => cellOfLayer(g, g.path.length), /layer 12 outside 0..11/);
    // Per layer: layer l's cell swaps the branches of block l % 5, so that layers differ.
    const cells = AUTO_DEEPLAB_GENOTYPE.path.map((_, l) => ({
      blocks: AUTO_DEEPLAB_GENOTYPE.cell.blocks.map((b, i) => (i === l % 5 ? [b[1], b[0]] : b)),
    }));
    const perLayer = validateGenotype(JSON.parse(JSON.stringify({ version: 1, cells, path: AUTO_DEEPLAB_GENOTYPE.path })), 'layers.json');
    assert.deepEqual(perLayer, { version: 1, cells, path: AUTO_DEEPLAB_GENOTYPE.path });
    cells.forEach((c, l) => assert.deepEqual(cellOfLayer(perLayer, l), c));
    assert.deepEqual(distinctCells(perLayer).map((c) => c.layers), [[0, 5, 10], [1, 6, 11], [2, 7], [3, 8], [4, 9]]);
    const bad = (patch: Record<string, unknown>) => () => validateGenotype({ version: 1, cells, path: AUTO_DEEPLAB_GENOTYPE.path, ...patch }, 'my.json');
    assert.throws(bad({ cells: cells.slice(1) }), /my.json: field 'cells' must be an array of one cell per layer of the path \(12\), got "11 cells"/);
    assert.throws(bad({ cell: AUTO_DEEPLAB_GENOTYPE.cell }), /field 'cells' must not be given together with "cell"/);
    const wrongOp = JSON.parse(JSON.stringify(cells));
    wrongOp[7].blocks[2][1].op = 'zero';
    assert.throws(bad({ cells: wrongOp }), /field 'cells\[7\].blocks\[2\]\[1\].op' must be one of sep3x3/);
    assert.throws(() => validateGenotype({ version: 1, path: [0] }, 'x.json'), /field 'cell' must be an object with "blocks"/);
  });
});
