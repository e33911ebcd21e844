/**
 * Data-parallel throughput: `train` and `search` on the built-in scenes with
 * 1 process x 1 thread against `--nproc 2` (2 processes x 1 thread), the
 * same batch per process; images per second from each run's metrics (median
 * iteration time after the first, rank 0's line; a 2-rank iteration takes 2
 * batches). A search iteration (weight step on trainA, architecture step on
 * trainB) is counted by its trainA images.
 * `npm run bench -- distributed [--iterations N] [--only train|search]`; target: >= 1.6x.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsLog } from '../src/run/metrics_log';
import { median, printTable } from './report';

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');
const BATCH = 2;

/** The command line of each case (without --nproc, --threads, --out), for a run of `iterations` iterations. */
const CASES: Record<string, { what: string; args: (iterations: number) => string[] }> = {
  train: {
    what: 'train, Auto-DeepLab-S cell at F=4, crop 64',
    args: (iterations) => ['train', '--arch', 'autodeeplab-s', '--filter-multiplier', '4', '--crop', '64', '--batch-size', String(BATCH),
      '--iterations', String(iterations), '--builtin-size', '32', '--builtin-image-size', '64', '--bn-momentum', '0.1'],
  },
  search: {
    // Both steps from the first iteration, one epoch (trainA is sized below to hold `iterations` global batches).
    what: 'search (weight + architecture step), L=4 B=3 F=4, crop 64',
    args: (iterations) => ['search', '--layers', '4', '--blocks', '3', '--filter-multiplier', '4', '--crop', '64', '--batch-size', String(BATCH),
      '--epochs', '1', '--arch-start-epoch', '0', '--builtin-image-size', '64', '--checkpoint-every', '1e6'],
  },
};

function imagesPerSecond(name: string, nproc: number, iterations: number): number {
  const c = CASES[name];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-bench-ddp-'));
  // search: trainA (half the split) holds `iterations` global batches of this job.
  const size = name === 'search' ? ['--builtin-size', String(2 * BATCH * nproc * iterations)] : [];
  const args = [CLI, ...c.args(iterations), ...size, '--device', 'cpu', '--out', path.join(out, 'run'), '--threads', String(nproc),
    ...(nproc > 1 ? ['--nproc', String(nproc)] : [])];
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const its = MetricsLog.read(path.join(out, 'run', 'metrics.jsonl')).filter((r) => r.type === 'iteration').slice(1);
  fs.rmSync(out, { recursive: true });
  return (nproc * BATCH) / median(its.map((r) => r.seconds as number));
}

export async function runDistributedBench(args: string[]): Promise<void> {
  const at = args.indexOf('--iterations');
  const iterations = at >= 0 ? Number(args[at + 1]) : 12;
  const only = args.indexOf('--only');
  for (const name of only >= 0 ? [args[only + 1]] : Object.keys(CASES)) {
    if (!CASES[name]) throw new Error(`bench distributed: --only must be one of ${Object.keys(CASES).join(', ')}, got '${name}'`);
    const one = imagesPerSecond(name, 1, iterations);
    const two = imagesPerSecond(name, 2, iterations);
    printTable([
      { run: '1 process x 1 thread', 'images/s': one.toFixed(2) },
      { run: '2 processes x 1 thread (--nproc 2)', 'images/s': two.toFixed(2) },
    ]);
    console.log(`${CASES[name].what}, batch ${BATCH} per process, ${iterations} iterations (median after the first)`);
    console.log(`${name === 'train' ? 'ddp_speedup_2x1_vs_1x1' : `ddp_${name}_speedup_2x1_vs_1x1`}=${(two / one).toFixed(2)}`);
  }
}
