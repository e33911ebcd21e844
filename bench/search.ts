/**
 * Search speed and memory: seconds per iteration (weight step + architecture
 * step) and peak RSS at crops 32, 64 and 128 (batch 2, F=8, B=5, L=12, 19
 * classes), each in its own process, with the cells into a node sharing
 * weights (the default) and untied (--untied-cells, in columns beside).
 * `--crops 33 --tiny` checks that it runs (L=2, B=2, F=2). Compared with
 *  - the plain formulation of the same supernet (every arrow, edge and op on
 *    its own), run in this invocation at crop 64: the batching speed-up;
 *  - the public PyTorch implementation measured on this machine class
 *    (../shared/REFERENCE.md): 14.1 / 15.2 / 24.8 s and 0.9 / 1.3 / 3.4 GB.
 */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { printTable } from './report';

const PEER: Record<number, { seconds: number; gb: number }> = {
  32: { seconds: 14.1, gb: 0.9 }, 64: { seconds: 15.2, gb: 1.3 }, 128: { seconds: 24.8, gb: 3.4 },
};

interface Measurement { crop: number; mode: string; secondsPerIteration: number; peakRssBytes: number; estimateBytes: number; params: number }

/** One worker process; cells 'shared' or 'untied'; tiny: a small supernet, to check that the bench runs. */
function measure(crop: number, mode: string, iterations: number, threads: number, cells = 'shared', tiny = false): Measurement {
  const argv = [path.join(__dirname, 'search_worker.js'), String(crop), mode, String(iterations), String(threads), cells, tiny ? 'tiny' : 'paper'];
  const out = execFileSync(process.execPath, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Measurement;
}

const gb = (bytes: number) => (bytes / 2 ** 30).toFixed(2);

export async function runSearchBench(threads: number, args: string[]): Promise<void> {
  const iterations = Number(args[args.indexOf('--iterations') + 1]) || 3;
  const ci = args.indexOf('--crops');
  const crops = ci >= 0 ? args[ci + 1].split(',').map(Number) : [32, 64, 128];
  const tiny = args.includes('--tiny');
  const rows: Record<string, string>[] = [];
  const results: Measurement[] = [];
  const untiedResults: Measurement[] = [];
  for (const crop of crops) {
    for (const mode of ['recompute', 'keep']) {
      const m = measure(crop, mode, iterations, threads, 'shared', tiny);
      const u = measure(crop, mode, iterations, threads, 'untied', tiny);
      results.push(m);
      untiedResults.push(u);
      const peer = PEER[crop];
      rows.push({
        crop: String(crop), mode, 's/it': m.secondsPerIteration.toFixed(2), 'peak RSS GB': gb(m.peakRssBytes), 'estimate GB': gb(m.estimateBytes),
        'untied s/it': u.secondsPerIteration.toFixed(2), 'untied GB': gb(u.peakRssBytes),
        'peer s/it': peer?.seconds.toFixed(1) ?? '-', 'peer GB': peer?.gb.toFixed(1) ?? '-',
        'speed-up': peer ? (peer.seconds / m.secondsPerIteration).toFixed(1) : '-', 'memory ratio': peer ? (m.peakRssBytes / 2 ** 30 / peer.gb).toFixed(2) : '-',
      });
    }
  }
  printTable(rows);
  console.log(`supernet weights: ${(results[0].params / 1e6).toFixed(1)}M shared, ${(untiedResults[0].params / 1e6).toFixed(1)}M untied; ` +
    `threads=${threads}; iterations=${iterations} (median, after one warm-up)`);
  if (tiny || !crops.includes(64) || !crops.includes(128)) return; // the comparisons below need the paper's supernet at crops 64 and 128
  const plain = measure(64, 'plain', 1, threads);
  const batched64 = results.find((r) => r.crop === 64 && r.mode === 'keep')!;
  console.log(`plain formulation at crop 64 (same invocation): ${plain.secondsPerIteration.toFixed(2)} s/it, ` +
    `${gb(plain.peakRssBytes)} GB; batched is ${(plain.secondsPerIteration / batched64.secondsPerIteration).toFixed(1)}x faster`);
  const at = (crop: number, mode: string) => results.find((r) => r.crop === crop && r.mode === mode)!;
  console.log(`speedup_vs_peer_crop64=${(PEER[64].seconds / at(64, 'recompute').secondsPerIteration).toFixed(2)} ` +
    `speedup_vs_peer_crop128=${(PEER[128].seconds / at(128, 'recompute').secondsPerIteration).toFixed(2)} ` +
    `max_memory_ratio_vs_peer=${Math.max(...crops.filter((c) => PEER[c]).map((c) => at(c, 'recompute').peakRssBytes / 2 ** 30 / PEER[c].gb)).toFixed(2)}`);
}
