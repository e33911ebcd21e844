/** The closed-form cost table equals `cost`'s count of convolution multiply-accumulates of the built network, exactly. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { MultiAddsTable, networkCost } from '../../src/budget/cost_table';
import { AUTO_DEEPLAB_GENOTYPE, Genotype, Level } from '../../src/arch/genotype';
import { countCost } from '../../src/model/cost';
import { buildModel } from '../../src/model/presets';
import { randomCell, randomPath } from '../arch/random_genotype';

function counted(genotype: Genotype, F: number, classes: number, H: number, W: number): number {
  const m = buildModel({ genotype, filterMultiplier: F, numClasses: classes });
  try {
    return countCost(m, H, W).multiAdds;
  } finally {
    m.weights.dispose();
  }
}

function closedForm(genotype: Genotype, F: number, classes: number, H: number, W: number): number {
  const t = new MultiAddsTable({ filterMultiplier: F, blocks: genotype.cell!.blocks.length, numClasses: classes, size: [H, W] });
  return networkCost(t, genotype.cell!, genotype.path);
}

describe('MultiAddsTable: closed form of the Multi-Adds count', () => {
  for (const [name, F, total] of [['S', 20, 315.14e9], ['M', 32, 431.00e9], ['L', 48, 647.08e9]] as const) {
    it(`Auto-DeepLab-${name} at 1024x2048 equals the count (${(total / 1e9).toFixed(2)}B)`, () => {
      const c = closedForm(AUTO_DEEPLAB_GENOTYPE, F, 19, 1024, 2048);
      assert.equal(c, counted(AUTO_DEEPLAB_GENOTYPE, F, 19, 1024, 2048));
      assert.ok(Math.abs(c / total - 1) < 5e-5, `${c}`);
    });
  }

  // Paths with detours (sizes 2n - 1 after a finer move), paths starting coarser (decoder reads the stem),
  // blocks 2 (a prevPrev of the same width: no projection) to 5, odd input sizes, other class counts.
  const cases: [string, Level[], number, number, number, number][] = [
    ['down-up-down detours', [0, 1, 2, 3, 2, 1, 0, 1, 0, 0], 5, 8, 97, 130],
    ['starts coarser', [1, 2, 1, 0, 0, 1], 4, 6, 64, 64],
    ['one layer', [1], 3, 4, 33, 47],
    ['blocks 2 (prevPrev widths equal filters)', [0, 0, 1, 1, 2, 3, 3, 2, 1, 2], 2, 8, 129, 71],
  ];
  cases.forEach(([what, path, blocks, F, H, W], i) => {
    it(`random cells on a path: ${what}`, () => {
      for (let seed = 0; seed < 3; seed++) {
        const g: Genotype = { version: 1, cell: randomCell(blocks, 100 * i + seed), path };
        assert.equal(closedForm(g, F, 7 + seed, H, W), counted(g, F, 7 + seed, H, W), JSON.stringify(g));
      }
    });
  });

  it('random paths of 12 layers with random cells at 1024x2048, F = 20', () => {
    for (let seed = 0; seed < 4; seed++) {
      const g: Genotype = { version: 1, cell: randomCell(5, seed + 50), path: randomPath(12, seed + 60) };
      assert.equal(closedForm(g, 20, 19, 1024, 2048), counted(g, 20, 19, 1024, 2048), JSON.stringify(g));
    }
  });
});
