/** A training run stopped and resumed ends with exactly the weights of an uninterrupted run. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { loadCheckpoint } from '../../src/run/checkpoint';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');

describe('train --resume', () => {
  it('stop at iteration 12, resume to 30: same weights, BN statistics and metrics as one run of 30', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-resume-'));
    const args = ['train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '4', '--iterations', '30',
      '--builtin-size', '16', '--builtin-image-size', '48', '--bn-momentum', '0.1', '--drop-path-keep', '0.7', '--threads', '2'];
    const run = (...extra: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args, ...extra], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    const [a, b] = [path.join(dir, 'a'), path.join(dir, 'b')];
    run('--out', a);
    run('--out', b, '--max-iterations', '12');
    run('--out', b, '--resume');
    const [ma, mb] = [a, b].map((d) => loadCheckpoint(path.join(d, 'model.safetensors')));
    assert.deepEqual(Object.keys(mb.tensors).sort(), Object.keys(ma.tensors).sort());
    for (const k of Object.keys(ma.tensors)) assert.deepEqual(mb.tensors[k].toArray(), ma.tensors[k].toArray(), k);
    const losses = (d: string) => fs.readFileSync(path.join(d, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
      .filter((r) => r.type === 'iteration').map((r) => r.loss);
    assert.deepEqual(losses(b), losses(a));
    T.dispose([Object.values(ma.tensors), Object.values(mb.tensors)]);
    fs.rmSync(dir, { recursive: true });
  });
});
