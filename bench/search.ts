/**
 * Search speed and memory: seconds per iteration (weight step + architecture
 * step) and peak RSS at crops 32, 64 and 128 (batch 2, F=8, B=5, L=12, 19
 * classes), each in its own process. Compared with
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

function measure(crop: number, mode: string, iterations: number, threads: number): Measurement {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'search_worker.js'), String(crop), mode, String(iterations), String(threads)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop()!) as Measurement;
}

export async function runSearchBench(threads: number, args: string[]): Promise<void> {
  const iterations = Number(args[args.indexOf('--iterations') + 1]) || 3;
  const rows: Record<string, string>[] = [];
  const results: Measurement[] = [];
  for (const crop of [32, 64, 128]) {
    for (const mode of ['recompute', 'keep']) {
      const m = measure(crop, mode, iterations, threads);
      results.push(m);
      rows.push({
        crop: String(crop), mode, 's/it': m.secondsPerIteration.toFixed(2), 'peak RSS GB': (m.peakRssBytes / 2 ** 30).toFixed(2), 'estimate GB': (m.estimateBytes / 2 ** 30).toFixed(2),
        'peer s/it': PEER[crop].seconds.toFixed(1), 'peer GB': PEER[crop].gb.toFixed(1),
        'speed-up': (PEER[crop].seconds / m.secondsPerIteration).toFixed(1), 'memory ratio': ((m.peakRssBytes / 2 ** 30) / PEER[crop].gb).toFixed(2),
      });
    }
  }
  const plain = measure(64, 'plain', 1, threads);
  const batched64 = results.find((r) => r.crop === 64 && r.mode === 'keep')!;
  printTable(rows);
  console.log(`plain formulation at crop 64 (same invocation): ${plain.secondsPerIteration.toFixed(2)} s/it, ` +
    `${(plain.peakRssBytes / 2 ** 30).toFixed(2)} GB; batched is ${(plain.secondsPerIteration / batched64.secondsPerIteration).toFixed(1)}x faster`);
  console.log(`supernet weights: ${(results[0].params / 1e6).toFixed(1)}M; threads=${threads}; iterations=${iterations} (median, after one warm-up)`);
  const at = (crop: number, mode: string) => results.find((r) => r.crop === crop && r.mode === mode)!;
  console.log(`speedup_vs_peer_crop64=${(PEER[64].seconds / at(64, 'recompute').secondsPerIteration).toFixed(2)} ` +
    `speedup_vs_peer_crop128=${(PEER[128].seconds / at(128, 'recompute').secondsPerIteration).toFixed(2)} ` +
    `max_memory_ratio_vs_peer=${Math.max(...[32, 64, 128].map((c) => at(c, 'recompute').peakRssBytes / 2 ** 30 / PEER[c].gb)).toFixed(2)}`);
}
