/**
 * The run directory from the command line: one writer at a time (a second
 * process is refused, a killed one's lock recovered), and search writes the
 * genotype it prints on every stop (issue 14, items 7 and 9).
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { validateGenotype } from '../../src/arch/genotype_file';
import { onTmpfs } from '../run/tmpfs';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const SEARCH = ['search', '--epochs', '20', '--arch-start-epoch', '1', '--crop', '40', '--layers', '2', '--blocks', '2',
  '--filter-multiplier', '2', '--builtin-size', '8', '--builtin-image-size', '48', '--threads', '1'];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'adl-rundir-'));

/** Resolves once the run in out has logged n iterations. */
function iterationsLogged(out: string, n: number, child: ReturnType<typeof spawn>): Promise<void> {
  const metrics = path.join(out, 'metrics.jsonl');
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (fs.existsSync(metrics) && fs.readFileSync(metrics, 'utf8').split('\n').filter((l) => l.includes('"type":"iteration"')).length >= n) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    child.on('exit', () => {
      clearInterval(timer);
      reject(new Error('the run ended too early'));
    });
  });
}

/** genotype.json exists where the run printed it, is valid, and carries alpha and beta. */
function assertGenotypePrinted(stdout: string): void {
  const file = /genotype: (\S+)/.exec(stdout)?.[1];
  assert.ok(file && fs.existsSync(file), `printed genotype path ${file} does not exist`);
  const g = JSON.parse(fs.readFileSync(file, 'utf8'));
  validateGenotype(g, file);
  assert.equal(g.search.alpha.length, 5); // numEdges(2) = 2 + 3
  assert.equal(g.search.beta.length, 2);
}

describe('run directory from the command line', () => {
  it('a second process writing to the same --out is refused naming the first; the lock of a killed process is recovered', async () => {
    const out = tmp();
    const first = spawn(process.execPath, [CLI, ...SEARCH, '--out', out], { stdio: 'ignore' });
    await iterationsLogged(out, 1, first);
    assert.equal(fs.readFileSync(path.join(out, 'run.lock'), 'utf8').trim(), String(first.pid));
    const second = spawnSync(process.execPath, [CLI, ...SEARCH, '--out', out, '--max-iterations', '1'], { encoding: 'utf8' });
    assert.equal(second.status, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`--out: ${out} is in use by process ${first.pid} \\(${path.join(out, 'run.lock')}\\)`));
    const exited = new Promise((res) => first.on('exit', res));
    first.kill('SIGKILL');
    await exited;
    assert.ok(fs.existsSync(path.join(out, 'run.lock')), 'a killed process leaves its lock');
    const third = spawnSync(process.execPath, [CLI, ...SEARCH, '--out', out, '--max-iterations', '1'], { encoding: 'utf8' });
    assert.equal(third.status, 0, third.stderr);
    assert.ok(!fs.existsSync(path.join(out, 'run.lock')), 'the lock is given back at the end');
    fs.rmSync(out, { recursive: true });
  });

  it('search stopped before the first epoch ends (--max-iterations, Ctrl-C) writes the genotype it prints', async () => {
    const out = tmp();
    const byMax = spawnSync(process.execPath, [CLI, ...SEARCH, '--out', out, '--max-iterations', '1'], { encoding: 'utf8' });
    assert.equal(byMax.status, 0, byMax.stderr);
    assertGenotypePrinted(byMax.stdout);
    fs.rmSync(out, { recursive: true });

    const out2 = tmp();
    // 6 iterations per epoch: the signal lands well before the first epoch ends.
    const child = spawn(process.execPath, [CLI, ...SEARCH, '--builtin-size', '24', '--out', out2], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout!.on('data', (d) => (stdout += d));
    await iterationsLogged(out2, 1, child);
    const code = new Promise((res) => child.on('exit', res));
    child.kill('SIGINT');
    assert.equal(await code, 0);
    assert.match(stdout, /search stopped after [1-5] iterations/);
    assert.ok(!fs.existsSync(path.join(out2, 'genotypes')), 'no epoch has ended');
    assertGenotypePrinted(stdout);
    fs.rmSync(out2, { recursive: true });
  });

  it('--out on a read-only file system: search, train and trials exit 2 naming --out and EROFS, before any work', (t) => {
    onTmpfs(t, 'ro,size=1m', (mnt) => {
      const TRAIN = ['train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--builtin-size', '8', '--builtin-image-size', '48', '--iterations', '2', '--threads', '1'];
      for (const [args, out] of [[SEARCH, path.join(mnt, 'run')], [SEARCH, mnt], [TRAIN, path.join(mnt, 'a', 'b')],
        [['trials', '--trials', '1', ...SEARCH.slice(1)], path.join(mnt, 'sweep')]] as const) {
        const r = spawnSync(process.execPath, [CLI, ...args, '--out', out], { encoding: 'utf8', timeout: 60_000 });
        assert.equal(r.status, 2, `${args[0]} --out ${out}: ${r.stderr}`);
        assert.match(r.stderr, new RegExp(`--out: ${out} cannot be written: ${mnt} is on a read-only file system \\(EROFS\\)`));
        assert.doesNotMatch(r.stderr, /ENOENT/);
      }
    }, 'nothing else makes a folder unwritable for root');
  });
});
