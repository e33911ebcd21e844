/** Retraining details: ASPP rates follow the output stride of the path's last cell; drop path never drops a skip. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { traceOps } from '../../src/engine/dispatch';
import { AUTO_DEEPLAB_GENOTYPE, CellGenotype, Genotype, Level } from '../../src/arch/genotype';
import { GenotypeCell } from '../../src/model/cell';
import { asppRates, RELEASED_BN } from '../../src/model/network';
import { buildModel } from '../../src/model/presets';
import { ParameterStore } from '../../src/nn/params';
import { assertClose } from '../helpers';

describe('ASPP atrous rates', () => {
  // DeepLab's rates at output stride 8 (released) and 16, halved again at 32 and doubled at 4 (docs/reference.md, issue 12).
  const expected: [Level[], number[]][] = [
    [[0, 0], [24, 48, 72]],
    [[...AUTO_DEEPLAB_GENOTYPE.path], [12, 24, 36]],
    [[0, 1, 2], [6, 12, 18]],
    [[0, 1, 2, 3], [3, 6, 9]],
  ];
  for (const [path, rates] of expected) {
    const stride = 4 * 2 ** path[path.length - 1];
    it(`a path ending at output stride ${stride}: the ASPP's 3x3 convolutions run at dilations ${rates.join('/')}`, () => {
      assert.deepEqual(asppRates(path[path.length - 1]), rates);
      const genotype: Genotype = { ...AUTO_DEEPLAB_GENOTYPE, path };
      const m = buildModel({ genotype, filterMultiplier: 2, numClasses: 3 });
      const aspp3x3 = new Set(m.weights.namedParameters().filter(([n, p]) => n.startsWith('aspp.') && p.shape[2] === 3).map(([, p]) => p.id));
      assert.equal(aspp3x3.size, 3);
      // Observe every convolution of a forward pass; keep the dilations of those with an ASPP 3x3 weight.
      const dilations: number[] = [];
      T.noGrad(() => T.tidy(() => traceOps((c) => {
        if (c.op !== 'aten::conv2d' || !aspp3x3.has((c.args[1] as T.Tensor).id)) return;
        const d = c.args[5] as number | number[];
        const [dy, dx] = Array.isArray(d) ? d : [d, d];
        assert.equal(dy, dx);
        dilations.push(dy);
      }, () => m.forward(T.randn([1, 3, 64, 64]), false))));
      assert.deepEqual(dilations.sort((a, b) => a - b), rates);
      m.weights.dispose();
    });
  }
});

describe('drop path and skips', () => {
  // block0 = skip(prevPrev) + skip(prev); block1 = sep3x3(block0) + skip(prev).
  const cell: CellGenotype = {
    blocks: [
      [{ input: 'prevPrev', op: 'skip' }, { input: 'prev', op: 'skip' }],
      [{ input: 'block0', op: 'sep3x3' }, { input: 'prev', op: 'skip' }],
    ],
  };
  for (const stride of [1, 2] as const) {
    it(`a keep probability near 0 drops the other ops but never a skip (${stride === 1 ? 'identity' : 'strided, projected as TF does'})`, () => {
      const F = 4;
      const store = new ParameterStore();
      const c = new GenotypeCell(store, 'c', cell, 6, F, F, stride, RELEASED_BN);
      const [h0, h1] = [T.randn([2, 6, 8, 8]).keep(), T.randn([2, F, 8, 8]).keep()];
      const run = (keep: number) => T.noGrad(() => T.tidy(() => {
        T.manualSeed(5);
        const y = c.forward(h0, h1, true, keep); // (2, 2F, H, W): block0, block1
        return [T.narrow(y, 1, 0, F), T.narrow(y, 1, F, F)].map((t) => t.toArray());
      }));
      const [[b0, b1], [b0Kept, b1Kept]] = [run(1e-6), run(1)];
      assert.deepEqual(b0, b0Kept, 'a block of two skips changed under drop path');
      assert.notDeepEqual(b1, b1Kept, 'the sep3x3 was not dropped');
      if (stride === 1) {
        // block1 is then skip(prev) alone, and block0 - block1 = skip(prevPrev) = h1 (same width: no projection).
        assertClose(b0.map((v, i) => v - b1[i]), T.tidy(() => h1.toArray()), 1e-5, 'block0 - block1');
      }
      T.dispose([h0, h1]);
      store.dispose();
    });
  }
});
