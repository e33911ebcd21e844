/**
 * Alpha per layer (the paper's future work, Sec. 6): the supernet decodes one
 * cell per layer, and that genotype goes through a file, the model `train`
 * builds (forward and backward), `cost` and `diagram` unchanged.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { cellOfLayer } from '../../src/arch/genotype';
import { GENOTYPE_SCHEMA_ID } from '../../src/arch/genotype_file';
import { PRIMITIVES } from '../../src/arch/primitives';
import { numEdges } from '../../src/arch/topology';
import { readGenotypeFile } from '../../src/arch/genotype_file';
import { countCost } from '../../src/model/cost';
import { buildModel } from '../../src/model/presets';
import { resolveSearchConfig } from '../../src/search/search_config';
import { Supernet } from '../../src/search/supernet';
import { writeFileAtomic } from '../../src/util/files';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
/** The op that layer l's alpha favours on every edge: a different conv op per layer. */
const OP_OF_LAYER = ['sep3x3', 'atrous5x5', 'sep5x5', 'atrous3x3'] as const;
/** The model's parameter name part of a conv op (separable ops are named by kernel). */
const weightName = (op: string) => (op.startsWith('sep') ? `sep${op.slice(3)}` : op);

describe('alpha per layer', () => {
  it('decodes one cell per layer, which file, model (fwd + bwd), cost and diagram all take', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-alpha-layer-'));
    T.manualSeed(2);
    const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 1, stemChannels: 4, numClasses: 3, crop: 33, threads: 2, alphaPerLayer: true });
    const net = new Supernet(cfg);
    assert.deepEqual(net.alpha.shape, [4, numEdges(3), PRIMITIVES.length]);
    // Layer l's alpha: its own op strongest on every edge.
    const logits = OP_OF_LAYER.flatMap((op) => Array.from({ length: numEdges(3) }, () => PRIMITIVES.map((p) => (p === op ? 4 : 0)))).flat();
    T.noGrad(() => T.tidy(() => T.assign(net.alpha, T.tensor(logits, net.alpha.shape))));
    const genotype = net.genotype();
    assert.equal(genotype.cell, undefined);
    assert.equal(genotype.cells!.length, cfg.layers);
    genotype.cells!.forEach((cell, l) => {
      assert.equal(cell.blocks.length, cfg.blocks);
      for (const block of cell.blocks) for (const br of block) assert.equal(br.op, OP_OF_LAYER[l], `layer ${l}`);
    });

    // File: as search writes it (with the per-layer alpha it was decoded from).
    const file = path.join(dir, 'genotype.json');
    const snap = net.snapshot();
    assert.equal((snap.alpha as number[][][]).length, cfg.layers);
    writeFileAtomic(file, JSON.stringify({ $schema: GENOTYPE_SCHEMA_ID, ...genotype, search: { epoch: 0, iteration: 1, ...snap } }));
    const read = readGenotypeFile(file).genotype;
    assert.deepEqual(read, genotype);
    net.dispose();

    // The model builds each layer's own cell; a training step's forward and backward run.
    const model = buildModel({ genotype: read, filterMultiplier: 2, numClasses: 3 });
    const names = model.weights.namedParameters().map(([n]) => n);
    read.path.forEach((_, l) => {
      const cell = cellOfLayer(read, l);
      cell.blocks.forEach((block, i) => block.forEach((br, j) =>
        assert.ok(names.some((n) => n.startsWith(`cells.${l}.block${i}.${j}.${weightName(br.op)}`)), `cells.${l}.block${i}.${j} is not ${br.op}`)));
      for (const other of OP_OF_LAYER.filter((op) => op !== OP_OF_LAYER[l])) {
        assert.ok(!names.some((n) => n.startsWith(`cells.${l}.`) && n.includes(`.${weightName(other)}`)), `layer ${l} holds ${other}`);
      }
    });
    T.tidy(() => {
      const out = model.forward(T.randn([2, 3, 33, 33]), true);
      assert.deepEqual(out.shape, [2, 3, 33, 33]);
      T.backward(T.sum(T.square(out)));
    });
    for (const [n, p] of model.weights.namedParameters()) if (n.startsWith('cells.')) assert.ok(p.grad, `${n} has no gradient`);
    const cost = countCost(model, 64, 64);
    model.weights.dispose();
    // One cell (layer 0's) everywhere costs something else: the per-layer cells are what is counted.
    const single = buildModel({ genotype: { version: 1, cell: cellOfLayer(read, 0), path: read.path }, filterMultiplier: 2, numClasses: 3 });
    assert.notEqual(countCost(single, 64, 64).parts.cells.params, cost.parts.cells.params);
    single.weights.dispose();

    // cost and diagram from the file.
    const c = run('cost', '--genotype', file, '--filter-multiplier', '2', '--classes', '3', '--size', '64x64', '--json');
    assert.equal(c.status, 0, c.stderr);
    const printed = JSON.parse(c.stdout);
    assert.equal(printed.params, cost.params);
    assert.equal(printed.multiAdds, cost.multiAdds);
    const d = run('diagram', '--genotype', file, '--out', dir);
    assert.equal(d.status, 0, d.stderr);
    OP_OF_LAYER.forEach((op, l) => {
      const svg = fs.readFileSync(path.join(dir, `cell-layer${l + 1}.svg`), 'utf8');
      assert.ok(svg.includes(`>${op}<`) && OP_OF_LAYER.every((o) => o === op || !svg.includes(`>${o}<`)), `cell-layer${l + 1}.svg`);
    });
    assert.ok(fs.existsSync(path.join(dir, 'path.png')) && !fs.existsSync(path.join(dir, 'cell.svg')));
    fs.rmSync(dir, { recursive: true });
  });
});
