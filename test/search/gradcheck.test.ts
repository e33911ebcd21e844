/** alpha and beta gradients of a tiny supernet against central finite differences (float64). */
import { describe, it } from 'node:test';
import * as T from '../../src/engine';
import { resolveSearchConfig } from '../../src/search/search_config';
import { Supernet } from '../../src/search/supernet';
import { assertClose } from '../helpers';

describe('supernet architecture gradients', () => {
  it('d loss / d alpha and d loss / d beta match finite differences', () => {
    T.setDefaultFloatDType('float64');
    try {
      T.manualSeed(2);
      const cfg = resolveSearchConfig({ layers: 2, blocks: 2, filterMultiplier: 1, stemChannels: 4, numClasses: 2, crop: 33, threads: 2 });
      const net = new Supernet(cfg, { archInitScale: 0.5 });
      const x = T.randn([2, 3, 33, 33]).keep();
      const y = T.randint(0, 2, [2, 33, 33]).keep();
      const loss = () => T.crossEntropy(net.forward(x, true), y);
      const [ga, gb] = T.tidy(() => T.grad(loss(), [net.alpha, net.beta]).map((g) => g!.toArray()));
      for (const [p, analytic] of [[net.alpha, ga], [net.beta, gb]] as [T.Tensor, number[]][]) {
        const base = p.toArray();
        const eps = 1e-6; // batch norm over tiny maps is sharply curved: keep the step small
        const numeric = base.map((_, i) => {
          const at = (delta: number) => T.noGrad(() => T.tidy(() => {
            const v = [...base];
            v[i] += delta;
            T.assign(p, T.tensor(v, p.shape));
            return loss().item();
          }));
          const d = (at(eps) - at(-eps)) / (2 * eps);
          T.noGrad(() => T.tidy(() => T.assign(p, T.tensor(base, p.shape))));
          return d;
        });
        assertClose(analytic, numeric, 1e-5, p === net.alpha ? 'alpha gradient' : 'beta gradient');
      }
      net.dispose();
      T.dispose([x, y]);
    } finally {
      T.setDefaultFloatDType('float32');
    }
  });
});
