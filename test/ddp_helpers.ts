/** What the data-parallel tests of train and search share: finding a launcher's ranks, and a worker's entry point. */
import * as fs from 'node:fs';
import { launchLocal } from '../src/run/launch';

/** The ranks a launcher started (its children), by rank, from /proc. */
export function ranksOf(launcherPid: number): Map<number, number> {
  const found = new Map<number, number>();
  for (const e of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const ppid = Number(/PPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${e}/status`, 'utf8'))![1]);
      if (ppid !== launcherPid) continue;
      const rank = /(?:^|\0)RANK=(\d+)/.exec(fs.readFileSync(`/proc/${e}/environ`, 'utf8'));
      if (rank) found.set(Number(rank[1]), Number(e));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

export const maxAbsDiff = (a: number[], b: number[]) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

/**
 * A worker file's main: `node FILE OUT` launches itself as 2 local ranks;
 * each rank (RANK set) runs `rank(out)`. Errors exit 1 with `label`.
 */
export function workerMain(file: string, label: string, rank: (out: string) => Promise<void>): void {
  const out = process.argv[2];
  const run = async () => {
    if (process.env.RANK === undefined) {
      process.exitCode = (await launchLocal({ nproc: 2, threads: 2, argv: [file, out], killGraceMs: 2000 })).code;
      return;
    }
    await rank(out);
  };
  run().catch((e: unknown) => {
    process.stderr.write(`${label}: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  });
}
