/** --device on this machine: auto follows the build, a bad or unavailable device is bad input naming the flag. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { resolveDevice, restoreRngState, rngStateTensors } from '../../src/run/device';
import { BadInputError } from '../../src/util/errors';

describe('--device', () => {
  it('auto is CUDA exactly when this libtorch has it and sees a GPU; cpu is always available', () => {
    assert.equal(resolveDevice('auto'), T.cudaAvailable() ? 'cuda' : 'cpu');
    assert.equal(resolveDevice('cpu'), 'cpu');
  });

  it('a malformed device, or CUDA on a build without it, exits 2 naming --device', () => {
    assert.throws(() => resolveDevice('gpu'), (e: Error) => e instanceof BadInputError && /^--device: device 'gpu' is not valid/.test(e.message));
    if (!T.cudaAvailable()) {
      assert.throws(() => resolveDevice('cuda'), (e: Error) => e instanceof BadInputError && /--device: .*no CUDA support or sees no GPU/.test(e.message));
    } else {
      assert.throws(() => resolveDevice(`cuda:${T.buildInfo().cudaDevices}`), /only \d+ CUDA device/);
    }
  });

  it('the RNG state a checkpoint carries restores the same random stream', () => {
    const device = resolveDevice('auto');
    T.manualSeed(11);
    const saved = rngStateTensors(device);
    const a = T.tidy(() => T.randn([5], { device }).toArray());
    restoreRngState(saved, device);
    const b = T.tidy(() => T.randn([5], { device }).toArray());
    assert.deepEqual(b, a);
    assert.deepEqual(Object.keys(saved).sort(), device === 'cpu' ? ['rng'] : ['rng', 'rng_cuda']);
    T.dispose(Object.values(saved));
  });
});
