/**
 * Data-parallel throughput: `train` on the built-in scenes with 1 process x
 * 1 thread against `--nproc 2` (2 processes x 1 thread), the same batch per
 * process; images per second from each run's metrics (median iteration time
 * after the first, rank 0's line; a 2-rank iteration trains 2 batches).
 * `npm run bench -- distributed [--iterations N]`; target: >= 1.6x.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetricsLog } from '../src/run/metrics_log';
import { median, printTable } from './report';

const CLI = path.resolve(__dirname, '..', 'src', 'cli', 'main.js');

function imagesPerSecond(nproc: number, iterations: number, batch: number): number {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-bench-ddp-'));
  const args = [CLI, 'train', '--arch', 'autodeeplab-s', '--filter-multiplier', '4', '--crop', '64', '--batch-size', String(batch),
    '--iterations', String(iterations), '--builtin-size', '32', '--builtin-image-size', '64', '--bn-momentum', '0.1',
    '--device', 'cpu', '--out', path.join(out, 'run'), '--threads', String(nproc), ...(nproc > 1 ? ['--nproc', String(nproc)] : [])];
  execFileSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const its = MetricsLog.read(path.join(out, 'run', 'metrics.jsonl')).filter((r) => r.type === 'iteration').slice(1);
  fs.rmSync(out, { recursive: true });
  return (nproc * batch) / median(its.map((r) => r.seconds as number));
}

export async function runDistributedBench(args: string[]): Promise<void> {
  const at = args.indexOf('--iterations');
  const iterations = at >= 0 ? Number(args[at + 1]) : 12;
  const batch = 2;
  const one = imagesPerSecond(1, iterations, batch);
  const two = imagesPerSecond(2, iterations, batch);
  printTable([
    { run: '1 process x 1 thread', 'images/s': one.toFixed(2) },
    { run: '2 processes x 1 thread (--nproc 2)', 'images/s': two.toFixed(2) },
  ]);
  console.log(`train, Auto-DeepLab-S cell at F=4, crop 64, batch ${batch} per process, ${iterations} iterations (median after the first)`);
  console.log(`ddp_speedup_2x1_vs_1x1=${(two / one).toFixed(2)}`);
}
