/** withoutPreloadedMalloc: the environment for programs that are not ours (Chromium, the PyTorch reference). */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { withoutPreloadedMalloc } from '../../src/util/preload';

describe('withoutPreloadedMalloc', () => {
  it('drops only tcmalloc from LD_PRELOAD, and the variable when nothing else is left', () => {
    const env = { LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', A: '1' };
    assert.deepEqual(withoutPreloadedMalloc(env), { A: '1' });
    assert.equal(env.LD_PRELOAD, '/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', 'the input is left as it was');
    assert.equal(withoutPreloadedMalloc({ LD_PRELOAD: '/x/libtcmalloc_minimal.so.4:/y/libother.so' }).LD_PRELOAD, '/y/libother.so');
    assert.deepEqual(withoutPreloadedMalloc({ A: '1' }), { A: '1' });
  });
});
