/**
 * Progress as a log file gets it (stderr piped, not a terminal): plain lines
 * ending in a newline, never a carriage return, an ETA a person reads
 * (`7d 6h`, `3m 05s`, `--` until a step is timed), and the results on stdout.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { folderDataset } from '../data/fixtures';

const CLI = path.resolve(__dirname, '..', '..', 'src', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
/** Every ETA format of src/util/format.ts. */
const HUMAN_ETA = /\| ETA (--|\d+s|\d+m \d\ds|\d+h \d\dm|\d+d \d+h)$/;

/** Each line of a piped stderr: no carriage return anywhere, a newline after the last. */
function plainLines(stderr: string): string[] {
  assert.ok(!stderr.includes('\r'), `a carriage return in the log: ${JSON.stringify(stderr.slice(0, 300))}`);
  assert.ok(stderr === '' || stderr.endsWith('\n'), `the last line has no newline: ${JSON.stringify(stderr.slice(-200))}`);
  return stderr.split('\n').slice(0, -1);
}

describe('progress when stderr is not a terminal', () => {
  it('train: -- until a step is timed, then days and hours for a 1.5M-iteration schedule', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-eta-'));
    const r = run('train', '--arch', 'autodeeplab-s', '--filter-multiplier', '2', '--crop', '40', '--batch-size', '2', '--builtin-size', '8',
      '--builtin-image-size', '48', '--iterations', '1500000', '--max-iterations', '3', '--threads', '1', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const lines = plainLines(r.stderr).filter((l) => l.startsWith('train '));
    assert.ok(lines.length >= 2, r.stderr); // the first line and the last (printed when the bar stops)
    for (const l of lines) assert.match(l, HUMAN_ETA);
    assert.match(lines[0], /^train 1\/1500000 .*\| ETA --$/);
    // 1.5M iterations: at least 20 h even at 0.05 s/it.
    assert.match(lines[lines.length - 1], /^train 3\/1500000 .*\| ETA (\d+d \d+h|\d+h \d\dm)$/);
    assert.match(r.stdout, /^train stopped after 3 iterations/);
    fs.rmSync(out, { recursive: true });
  });

  it('latency-table: one plain line per few seconds and at the end; the table written is reported on stdout', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-lt-log-'));
    const table = path.join(dir, 't.json');
    const r = run('latency-table', '--runtime', 'libtorch', '--size', '32x32', '--filter-multiplier', '1', '--blocks', '2', '--classes', '2',
      '--repeats', '1', '--calibrate', '0', '--out', table);
    assert.equal(r.status, 0, r.stderr);
    const lines = plainLines(r.stderr);
    assert.ok(lines.length >= 2, r.stderr);
    for (const l of lines) assert.match(l, /^latency-table \d+\/(\d+) \| part \S+ ms [0-9.e-]+ /);
    for (const l of lines) assert.match(l, HUMAN_ETA);
    const [, n] = /\/(\d+) /.exec(lines[0])!;
    assert.match(lines[lines.length - 1], new RegExp(`^latency-table ${n}/${n} `));
    assert.equal(r.stdout, `latency table (libtorch, cpu clock, 1 thread(s), 32x32, F = 1): ${table}\n`);
    fs.rmSync(dir, { recursive: true });
  });

  it('check-data with a bad file: every progress line ends, the verdicts are on stdout', async () => {
    const root = await folderDataset(4, 24, { 2: 'truncated-mask' });
    const r = run('check-data', '--dataset', 'folder', '--data-root', root);
    assert.equal(r.status, 2, r.stderr);
    const lines = plainLines(r.stderr);
    for (const l of lines.slice(0, -1)) assert.match(l, /^check-data \w+ \d+\/\d+ /);
    for (const split of ['train', 'val']) assert.match(r.stderr, new RegExp(`^check-data ${split} (\\d+)/\\1 `, 'm'), `${split}: no last line`);
    assert.match(lines[lines.length - 1], /check-data: 1 of \d+ sample\(s\) have bad files/);
    assert.match(r.stdout, /^train: \d+ sample\(s\), 1 bad\n {2}.*masks\/s2\.png/m);
    fs.rmSync(root, { recursive: true });
  });
});
