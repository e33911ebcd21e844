/** The search run end to end: learning, run directory, and exact resume after a kill. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuiltinScenes } from '../../src/data/builtin';
import { resolveSearchConfig } from '../../src/search/search_config';
import { validateGenotype } from '../../src/arch/genotype_file';
import { runSearch } from '../../src/search/run_search';
import { MetricsLog } from '../../src/run/metrics_log';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'adl-search-'));

describe('search run', () => {
  it('on learnable data the loss falls and trainB mIoU rises; the run directory is complete', async () => {
    const out = tmp();
    const dataset = new BuiltinScenes({ size: 32, imageSize: 64, seed: 0 });
    const config = resolveSearchConfig({
      epochs: 5, archStartEpoch: 2, crop: 48, layers: 3, blocks: 3, filterMultiplier: 4, batchSize: 4,
      numClasses: dataset.numClasses, threads: 2,
    });
    const result = await runSearch({ config, dataset, out });
    assert.equal(result.completed, true);
    const records = MetricsLog.read(path.join(out, 'metrics.jsonl'));
    const iters = records.filter((r) => r.type === 'iteration');
    const epochs = records.filter((r) => r.type === 'epoch');
    assert.equal(iters.length, 20);
    assert.equal(epochs.length, 5);
    for (const r of iters) {
      for (const f of ['epoch', 'iteration', 'phase', 'loss', 'seconds', 'rssBytes']) assert.ok(f in r, `iteration line lacks '${f}'`);
    }
    assert.deepEqual([...new Set(iters.map((r) => r.phase))], ['warmup', 'search']);
    assert.ok(iters.filter((r) => r.phase === 'search').every((r) => typeof r.archLoss === 'number'));
    const first = epochs[0];
    const last = epochs[epochs.length - 1];
    // Learning, in 20 iterations: the training loss of the last epoch well below the first's; trainB loss and mIoU (BN
    // in evaluation mode, running statistics of a few steps: noisier) better at the end. (With the 64 px scenes and plain
    // crops, measured: training loss 2.72 -> 0.90, trainB loss 1.28 -> 0.97, mIoU 0.18 -> 0.19.)
    const meanLoss = (e: number) => iters.filter((r) => r.epoch === e).reduce((a, r) => a + (r.loss as number), 0) / 4;
    assert.ok(meanLoss(4) < meanLoss(0) * 0.8, `training loss ${meanLoss(0)} -> ${meanLoss(4)}`);
    assert.ok((last.valLoss as number) < (first.valLoss as number) * 0.9, `val loss ${first.valLoss} -> ${last.valLoss}`);
    assert.ok((last.mIoU as number) > (first.mIoU as number), `mIoU ${first.mIoU} -> ${last.mIoU}`);
    for (const f of ['pixelAccuracy', 'alphaEntropy', 'betaEntropy']) assert.equal(typeof last[f], 'number');
    const g = JSON.parse(fs.readFileSync(path.join(out, 'genotype.json'), 'utf8'));
    validateGenotype(g, 'genotype.json');
    assert.deepEqual(g.cell, result.genotype.cell);
    assert.equal(g.search.alpha.length, 9); // numEdges(3)
    assert.equal(g.path.length, 3);
    assert.ok(fs.existsSync(path.join(out, 'genotypes', 'epoch-004.json')));
    assert.ok(fs.existsSync(path.join(out, 'checkpoint.safetensors')));
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).layers, 3);
    fs.rmSync(out, { recursive: true });
  });

  it('a run killed mid-epoch and resumed ends with exactly the alpha, beta and genotype of an uninterrupted run', async () => {
    const args = ['search', '--epochs', '3', '--arch-start-epoch', '1', '--crop', '40', '--layers', '3', '--blocks', '3',
      '--filter-multiplier', '4', '--builtin-size', '12', '--builtin-image-size', '48', '--threads', '2'];
    const straight = tmp();
    const r = spawnSync(process.execPath, [CLI, ...args, '--out', straight], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);

    const killed = tmp();
    const child = spawn(process.execPath, [CLI, ...args, '--out', killed, '--checkpoint-every', '0'], { stdio: 'ignore' });
    const metrics = path.join(killed, 'metrics.jsonl');
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        const n = fs.existsSync(metrics) ? fs.readFileSync(metrics, 'utf8').split('\n').filter((l) => l.includes('"type":"iteration"')).length : 0;
        if (n >= 4) {
          child.kill('SIGKILL');
          clearInterval(timer);
          resolve();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        reject(new Error('the run finished before it could be killed'));
      });
    });
    await new Promise((res) => child.on('exit', res));
    const before = MetricsLog.read(metrics).filter((l) => l.type === 'iteration').length;
    assert.ok(before >= 4 && before < 9, `killed after ${before} of 9 iterations`);
    const resumed = spawnSync(process.execPath, [CLI, ...args, '--out', killed, '--resume'], { encoding: 'utf8' });
    assert.equal(resumed.status, 0, resumed.stderr);

    const a = JSON.parse(fs.readFileSync(path.join(straight, 'genotype.json'), 'utf8'));
    const b = JSON.parse(fs.readFileSync(path.join(killed, 'genotype.json'), 'utf8'));
    assert.deepEqual(b.search.alpha, a.search.alpha);
    assert.deepEqual(b.search.beta, a.search.beta);
    assert.deepEqual({ cell: b.cell, path: b.path }, { cell: a.cell, path: a.path });
    const lines = MetricsLog.read(metrics);
    assert.deepEqual(lines.filter((l) => l.type === 'iteration').map((l) => l.iteration), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(lines.filter((l) => l.type === 'iteration').map((l) => l.loss),
      MetricsLog.read(path.join(straight, 'metrics.jsonl')).filter((l) => l.type === 'iteration').map((l) => l.loss));
    fs.rmSync(straight, { recursive: true });
    fs.rmSync(killed, { recursive: true });
  });

  it('SIGTERM (or Ctrl-C) stops after the current iteration with a checkpoint', async () => {
    const out = tmp();
    const args = ['search', '--epochs', '3', '--arch-start-epoch', '1', '--crop', '40', '--layers', '3', '--blocks', '3',
      '--filter-multiplier', '4', '--builtin-size', '12', '--builtin-image-size', '48', '--threads', '2', '--out', out];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const metrics = path.join(out, 'metrics.jsonl');
    const timer = setInterval(() => {
      if (fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').includes('"iteration":2,')) {
        child.kill('SIGTERM');
        clearInterval(timer);
      }
    }, 20);
    const code = await new Promise((res) => child.on('exit', res));
    clearInterval(timer);
    assert.equal(code, 0);
    assert.match(stdout, /search stopped after \d+ iterations/);
    assert.ok(fs.existsSync(path.join(out, 'checkpoint.safetensors')));
    const r = spawnSync(process.execPath, [CLI, ...args, '--resume'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /search finished after 9 iterations/);
    fs.rmSync(out, { recursive: true });
  });

  it('--resume without a checkpoint, and a resume with other flags, are clear errors', () => {
    const out = tmp();
    const r = spawnSync(process.execPath, [CLI, 'search', '--out', out, '--resume'], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--resume: no checkpoint.safetensors in/);
    fs.rmSync(out, { recursive: true });
  });
});
