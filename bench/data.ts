/**
 * Data loading against step time at the main job's sizes (quickstart's search:
 * built-in scenes of 96 px, crop 64, batch 4, L=8, F=4): seconds the loop
 * waited for data per iteration, with batches prepared in a worker thread and
 * inline on the main thread, each against the iteration's total time.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataset } from '../src/data/registry';
import { resolveSearchConfig } from '../src/search/search_config';
import { runSearch } from '../src/search/run_search';
import { MetricsLog } from '../src/run/metrics_log';
import { printTable } from './report';
import { median } from './report';

export async function runDataBench(threads: number, args: string[]): Promise<void> {
  const iterations = Number(args[args.indexOf('--iterations') + 1]) || 12;
  const spec = { name: 'builtin', options: { split: 'train', builtinSize: 48, builtinImageSize: 96, seed: 0 } };
  const rows: Record<string, string>[] = [];
  const ratios: Record<string, number> = {};
  for (const mode of ['worker', 'inline']) {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'adl-bench-data-'));
    const dataset = openDataset(spec.name, spec.options);
    const config = resolveSearchConfig({ layers: 8, blocks: 5, filterMultiplier: 4, crop: 64, batchSize: 4, epochs: 6, archStartEpoch: 0,
      numClasses: dataset.numClasses, threads });
    await runSearch({ config, dataset, out, maxIterations: iterations, datasetSpec: mode === 'worker' ? spec : undefined });
    const its = MetricsLog.read(path.join(out, 'metrics.jsonl')).filter((r) => r.type === 'iteration').slice(1); // first: warm-up
    const data = median(its.map((r) => r.dataSeconds as number));
    const step = median(its.map((r) => r.seconds as number));
    ratios[mode] = data / step;
    rows.push({ mode, 'data wait s/it': data.toFixed(4), 'iteration s': step.toFixed(3), 'data share': `${(100 * data / step).toFixed(1)}%` });
    fs.rmSync(out, { recursive: true });
  }
  printTable(rows);
  console.log(`iterations=${iterations} (median after the first) threads=${threads}; a search iteration loads two batches (trainA, trainB)`);
  console.log(`data_wait_share_worker=${ratios.worker.toFixed(4)} data_wait_share_inline=${ratios.inline.toFixed(4)}`);
}
