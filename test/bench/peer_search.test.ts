/**
 * bench/peer_search.py, the public PyTorch peer's search step that the search
 * bench times beside ours, run as the bench runs it (PythonReference's line
 * protocol) on a tiny supernet: it starts under Debian's python3-torch, one
 * timed iteration takes a positive time, and that iteration moves the weights
 * (the SGD step) and the alphas and betas (the architect's Adam step).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { PYTHON, PythonReference } from '../../bench/reference';

const SCRIPT = path.resolve(__dirname, '..', '..', '..', 'bench', 'peer_search.py');
// L=3 is the peer's smallest supernet (its forward reads the stride-32 level from layer 2 on).
const TINY = ['32', '1', '--layers', '3', '--filter', '2', '--block', '2', '--step', '2'];

describe('the peer search driver (bench/peer_search.py)', () => {
  it('times one search iteration that steps weights, alphas and betas', async (t) => {
    if (spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
      return t.skip(`needs ${PYTHON} with torch (apt-get install python3-torch)`);
    }
    const peer = await PythonReference.start(SCRIPT, TINY, 1);
    try {
      const before = JSON.parse(await peer.query('checksum')) as Record<string, number>;
      const seconds = await peer.time('iteration');
      const after = JSON.parse(await peer.query('checksum')) as Record<string, number>;
      const peakRss = Number(await peer.query('peak_rss'));
      assert.ok(Number.isFinite(seconds) && seconds > 0, `seconds per iteration: ${seconds}`);
      assert.ok(Number.isFinite(peakRss) && peakRss > 0, `peak RSS: ${peakRss}`);
      for (const k of ['weights', 'alphas', 'betas']) {
        assert.ok(Number.isFinite(before[k]) && after[k] !== before[k], `${k}: sum |x| ${before[k]} -> ${after[k]}`);
      }
    } finally {
      peer.close();
    }
  });
});
