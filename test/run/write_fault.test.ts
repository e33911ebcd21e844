/**
 * A write that fails (full disk) stops the run with exit 1 and a message
 * naming the file and the cause; the earlier checkpoint is left intact and
 * resumes. In process with an injected fault, and from the command line on a
 * real 3 MB tmpfs filled up (where mounting is allowed).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../../src/engine';
import { BuiltinScenes } from '../../src/data/builtin';
import { loadCheckpoint } from '../../src/run/checkpoint';
import { resolveSearchConfig } from '../../src/search/search_config';
import { runSearch } from '../../src/search/run_search';
import { WriteError } from '../../src/util/errors';
import { injectWriteFault } from '../../src/util/files';
import { validateGenotype } from '../../src/arch/genotype_file';
import { onTmpfs } from './tmpfs';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'adl-fault-'));
/** The search of the command-line cases: 2 iterations per epoch. */
const SEARCH = ['search', '--epochs', '2', '--arch-start-epoch', '1', '--crop', '40', '--layers', '2', '--blocks', '2',
  '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];

const dataset = new BuiltinScenes({ size: 8, imageSize: 48, seed: 0 });
const config = resolveSearchConfig({ epochs: 2, archStartEpoch: 1, crop: 40, layers: 2, blocks: 2, filterMultiplier: 2, numClasses: dataset.numClasses, threads: 1 });

/** The iteration a checkpoint file holds (it must load). */
function checkpointIteration(file: string): number {
  const ck = loadCheckpoint(file);
  T.dispose(Object.values(ck.tensors));
  return ck.meta.iteration as number;
}

/** Runs a resumed search whose writes to files named `victim` fail after `after` bytes. */
async function failingResume(out: string, victim: string): Promise<unknown> {
  injectWriteFault((file) => {
    if (path.basename(file) === victim) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  });
  try {
    await runSearch({ config, dataset, out, resume: true, maxIterations: 2 });
    return null;
  } catch (e) {
    return e;
  } finally {
    injectWriteFault(null);
  }
}

describe('a failing write stops the run', () => {
  it('checkpoint, metrics, genotype: WriteError naming the file; the earlier checkpoint loads and resumes; no temporary file or lock is left', async () => {
    const out = tmp();
    await runSearch({ config, dataset, out, maxIterations: 1 });
    const ck = path.join(out, 'checkpoint.safetensors');
    assert.equal(checkpointIteration(ck), 1);
    for (const victim of ['checkpoint.safetensors', 'metrics.jsonl', 'genotype.json']) {
      const e = await failingResume(out, victim);
      assert.ok(e instanceof WriteError, `${victim}: ${String(e)}`);
      assert.match((e as Error).message, new RegExp(`${victim}: could not be written \\(ENOSPC: no space left on device`));
      assert.equal(checkpointIteration(ck), 1, victim); // iteration 2 ends epoch 0: its genotype is written before its checkpoint
      assert.deepEqual(fs.readdirSync(out).filter((f) => f.includes('.tmp-') || f === 'run.lock'), [], victim);
    }
    const r = await runSearch({ config, dataset, out, resume: true });
    assert.deepEqual([r.completed, r.iterations], [true, 4]);
    fs.rmSync(out, { recursive: true });
  });

  it('a checkpoint refused mid-epoch: genotype.json of that state is written first (the small result before the large file)', async () => {
    const out = tmp();
    injectWriteFault((file) => {
      if (path.basename(file) === 'checkpoint.safetensors') throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    try {
      await assert.rejects(runSearch({ config, dataset, out, checkpointEvery: 0 }), (e: Error) => e instanceof WriteError && /checkpoint\.safetensors: could not be written/.test(e.message));
    } finally {
      injectWriteFault(null);
    }
    // Iteration 1 of 2 per epoch: no epoch had ended, so only the save wrote it.
    const g = JSON.parse(fs.readFileSync(path.join(out, 'genotype.json'), 'utf8'));
    assert.deepEqual([g.search.epoch, g.search.iteration], [0, 1]);
    validateGenotype(g, 'genotype.json');
    assert.deepEqual(fs.readdirSync(out).sort(), ['config.json', 'genotype.json', 'metrics.jsonl']);
    fs.rmSync(out, { recursive: true });
  });

  it('config.json of a fresh run: WriteError naming it, before any step; the lock is given back', async () => {
    const out = tmp();
    injectWriteFault((file) => {
      if (path.basename(file) === 'config.json') throw new Error('EIO: i/o error, write');
    });
    try {
      await assert.rejects(runSearch({ config, dataset, out, maxIterations: 1 }),
        (e: Error) => e instanceof WriteError && e.message.startsWith(`${path.join(out, 'config.json')}: could not be written (EIO`));
    } finally {
      injectWriteFault(null);
    }
    assert.deepEqual(fs.readdirSync(out), []);
    fs.rmSync(out, { recursive: true });
  });

  it('from the command line on a full tmpfs: exit 1 naming the checkpoint and ENOSPC; the old checkpoint resumes once there is room', (t) => {
    onTmpfs(t, 'size=3m', (mnt) => {
      const out = path.join(mnt, 'run');
      const cli = (...extra: string[]) => spawnSync(process.execPath, [CLI, ...SEARCH, '--out', out, ...extra], { encoding: 'utf8' });
      const first = cli('--max-iterations', '1');
      assert.equal(first.status, 0, first.stderr);
      const ck = path.join(out, 'checkpoint.safetensors');
      const size = fs.statSync(ck).size;
      // Leave room for the metrics lines and genotype, not for another checkpoint.
      const free = Number(fs.statfsSync(mnt).bavail) * fs.statfsSync(mnt).bsize;
      assert.ok(free > size / 2 + 65536, `tmpfs too small for the test (${free} free, checkpoint ${size})`);
      fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(free - Math.floor(size / 2)));
      const full = cli('--resume', '--max-iterations', '2');
      assert.equal(full.status, 1, full.stderr);
      assert.match(full.stderr, /checkpoint.safetensors: could not be written \(.*ENOSPC/);
      assert.doesNotMatch(full.stdout, /search stopped/);
      assert.equal(checkpointIteration(ck), 1);
      assert.deepEqual(fs.readdirSync(out).filter((f) => f.includes('.tmp-') || f === 'run.lock'), []);
      fs.rmSync(path.join(mnt, 'filler'));
      const resumed = cli('--resume');
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, /search finished after 4 iterations/);
    });
  });

  it('from the command line, --checkpoint-every 0 on a disk too full for the first checkpoint: exit 1, and genotype.json is there', (t) => {
    onTmpfs(t, 'size=6m', (mnt) => {
      const out = path.join(mnt, 'run');
      const cli = (...extra: string[]) => spawnSync(process.execPath, [CLI, ...SEARCH, '--out', out, ...extra], { encoding: 'utf8' });
      assert.equal(cli('--max-iterations', '0').status, 0);
      const size = fs.statSync(path.join(out, 'checkpoint.safetensors')).size;
      fs.rmSync(out, { recursive: true });
      const free = Number(fs.statfsSync(mnt).bavail) * fs.statfsSync(mnt).bsize;
      fs.writeFileSync(path.join(mnt, 'filler'), Buffer.alloc(free - Math.floor(size / 2))); // room for the small files only
      const full = cli('--checkpoint-every', '0');
      assert.equal(full.status, 1, full.stderr);
      assert.match(full.stderr, /checkpoint.safetensors: could not be written \(.*ENOSPC/);
      const g = JSON.parse(fs.readFileSync(path.join(out, 'genotype.json'), 'utf8'));
      assert.equal(g.search.iteration, 1);
      validateGenotype(g, 'genotype.json');
      assert.ok(!fs.existsSync(path.join(out, 'checkpoint.safetensors')));
    });
  });
});
