/** The in-network share of a part's onnxruntime call, read from onnxruntime's own profile. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import * as T from '../../src/engine';
import { exportOnnx } from '../../src/deploy/onnx';
import { inGraphMs, profileRuns, profiledRuns } from '../../src/deploy/ort_profile';

const kernel = (op: string, dur: number) => ({ cat: 'Node', name: `n_${op}_kernel_time`, dur, args: { op_name: op } });
const run = (dur: number) => ({ cat: 'Session', name: 'model_run', dur });

describe('onnxruntime profile', () => {
  it('splits the events into runs and leaves the layout reorders out of the compute', () => {
    const events = [
      { cat: 'Session', name: 'session_initialization', dur: 900 },
      kernel('ReorderInput', 5), kernel('Conv', 40), kernel('ReorderOutput', 7), { cat: 'Node', name: 'n_Conv_fence_before', dur: 3 }, run(60),
      kernel('Relu', 2), kernel('Conv', 30), run(41),
    ];
    assert.deepEqual(profiledRuns(events), [
      { runUs: 60, computeUs: 40, reorderUs: 12, kernels: 3 },
      { runUs: 41, computeUs: 32, reorderUs: 0, kernels: 2 },
    ]);
  });

  it('a part inside a network: its run but the reorders as a share of its call, on the table\'s clock', () => {
    const profile = { kernels: 4, computeMs: 0.6, reorderMs: 0.1, runMs: 0.8 };
    // Share (0.8 - 0.1) / 1.4 = 0.5 of the call: 0.7 ms by the wall clock, 0.65 by the CPU clock.
    assert.ok(Math.abs(inGraphMs({ wall: 1.4, cpu: 1.3, profile }, 'wall') - 0.7) < 1e-12);
    assert.ok(Math.abs(inGraphMs({ wall: 1.4, cpu: 1.3, profile }, 'cpu') - 0.65) < 1e-12);
    assert.equal(inGraphMs({ wall: 0.5, cpu: 0.5, profile }, 'wall'), 0.5); // never more than the call
    assert.throws(() => inGraphMs({ wall: 1, cpu: 1 }, 'wall'), /not profiled/);
  });

  it('a convolution alone pays layout reorders around its kernels', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-share-'));
    const file = path.join(dir, 'conv.onnx');
    const w = T.randn([16, 16, 3, 3]).keep();
    exportOnnx((x) => T.relu(T.conv2d(x, w, { padding: 1 })), 24, 24, file, 'test', 16);
    const feed = { input: new ort.Tensor('float32', new Float32Array(16 * 24 * 24).fill(0.5), [1, 16, 24, 24]) };
    // A graph of a convolution alone: onnxruntime's CPU provider reorders its input and output around it.
    const { computeMs, reorderMs } = await profileRuns(file, feed, 1, 5);
    assert.ok(computeMs > 0 && reorderMs > 0, `compute ${computeMs} ms, reorders ${reorderMs} ms`);
    w.dispose();
    fs.rmSync(dir, { recursive: true });
  });
});
