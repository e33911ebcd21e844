/**
 * The supernet on a CUDA device computes what it computes on the CPU: same
 * weights (copied), same batch, logits and every gradient within 1e-4. On a
 * build without CUDA, asking for it is the clear error the CLI turns into
 * exit 2 (so this file asserts something on every machine).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { resolveSearchConfig } from '../../src/search/search_config';
import { Supernet } from '../../src/search/supernet';
import { BadInputError } from '../../src/util/errors';

const cfg = resolveSearchConfig({ layers: 3, blocks: 2, filterMultiplier: 2, stemChannels: 8, numClasses: 3, crop: 33, threads: 2 });

/** Logits and gradients (weights, alpha, beta) of one loss on `device`, from the given state. */
function gradientsOn(device: T.Device, state: Record<string, number[]>, x: number[], y: number[]): number[][] {
  const before = T.getDefaultDevice();
  T.setDefaultDevice(device);
  try {
    const net = new Supernet(cfg, { archInitScale: 0.5 });
    const named = [...net.weights.namedParameters(), ['alpha', net.alpha], ['beta', net.beta]] as [string, T.Tensor][];
    T.noGrad(() => T.tidy(() => named.forEach(([n, p]) => T.assign(p, T.tensor(state[n], p.shape)))));
    const out = T.tidy(() => {
      const images = T.tensor(x, [2, 3, 33, 33]);
      const labels = T.tensor(BigInt64Array.from(y.map(BigInt)), [2, 33, 33], { dtype: 'int64' });
      const logits = net.forward(images, true);
      const grads = T.grad(T.crossEntropy(logits, labels), named.map(([, p]) => p));
      return [logits.toArray(), ...grads.map((g) => g!.toArray())];
    });
    net.dispose();
    return out;
  } finally {
    T.setDefaultDevice(before);
  }
}

describe('supernet on CUDA = on CPU', () => {
  it(T.cudaAvailable() ? 'logits and gradients agree within 1e-4 (relative to each tensor\'s scale)' : 'without CUDA, a CUDA device is refused as bad input', () => {
    if (!T.cudaAvailable()) {
      assert.throws(() => T.setDefaultDevice('cuda'), (e: Error) => e instanceof BadInputError && /no CUDA support or sees no GPU/.test(e.message));
      return;
    }
    T.manualSeed(9);
    const init = new Supernet(cfg, { archInitScale: 0.5 });
    const state = Object.fromEntries([...init.weights.namedParameters(), ['alpha', init.alpha], ['beta', init.beta]].map(([n, p]) => [n, (p as T.Tensor).toArray()]));
    init.dispose();
    const x = T.tidy(() => T.randn([2, 3, 33, 33]).toArray());
    const y = T.tidy(() => T.randint(0, 3, [2, 33, 33]).toArray());
    const cpu = gradientsOn('cpu', state, x, y);
    const gpu = gradientsOn('cuda', state, x, y);
    cpu.forEach((c, i) => {
      const scale = Math.max(1e-6, ...c.map(Math.abs));
      const d = Math.max(...c.map((v, j) => Math.abs(v - gpu[i][j]))) / scale;
      assert.ok(d < 1e-4, `${i === 0 ? 'logits' : `gradient ${i - 1}`} differ by ${d}`);
    });
  });
});
