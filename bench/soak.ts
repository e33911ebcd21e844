/**
 * Soak: 1,000 small search iterations (weight step + architecture step, with
 * the recomputed backward pass, as the search runs) in one process, RSS
 * sampled every 50 iterations. Prints the RSS growth after warm-up (target
 * < 5%) and the live tensor count before and after (must be equal).
 * `npm run bench -- soak [--iterations N]`.
 */
import * as T from '../src/engine';
import { archStep, weightStep } from '../src/search/architect';
import { resolveSearchConfig } from '../src/search/search_config';
import { Supernet } from '../src/search/supernet';
import { printTable } from './report';

export async function runSoakBench(threads: number, args: string[]): Promise<void> {
  const at = args.indexOf('--iterations');
  const iterations = at >= 0 ? Number(args[at + 1]) : 1000;
  const warmup = Math.max(1, Math.floor(iterations / 10));
  T.setNumThreads(threads);
  T.manualSeed(0);
  const cfg = resolveSearchConfig({ layers: 4, blocks: 3, filterMultiplier: 2, stemChannels: 8, numClasses: 6, crop: 40, batchSize: 2, threads });
  const net = new Supernet(cfg, { recompute: true });
  const wOpt = new T.SGD(net.weights.parameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const aOpt = new T.Adam(net.archParameters(), { lr: 3e-3, weightDecay: 1e-3 });
  const batch = () => ({ images: T.randn([2, 3, 40, 40]), labels: T.randint(0, 6, [2, 40, 40]) });
  const rows: Record<string, string>[] = [];
  let liveAfterWarmup = 0;
  let rssAfterWarmup = 0;
  const t0 = Date.now();
  for (let i = 1; i <= iterations; i++) {
    T.tidy(() => {
      weightStep(net, wOpt, batch(), 0);
      archStep(net, aOpt, batch());
    });
    if (i === warmup) [liveAfterWarmup, rssAfterWarmup] = [T.memory().numTensors, process.memoryUsage().rss];
    if (i % 50 === 0 || i === iterations) {
      rows.push({ iteration: String(i), 'RSS MB': (process.memoryUsage().rss / 2 ** 20).toFixed(1), 'live tensors': String(T.memory().numTensors) });
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  const [live, rss] = [T.memory().numTensors, process.memoryUsage().rss];
  printTable(rows);
  console.log(`${iterations} iterations in ${seconds.toFixed(0)} s; warm-up ${warmup}; RSS after warm-up ${(rssAfterWarmup / 2 ** 20).toFixed(1)} MB, ` +
    `at the end ${(rss / 2 ** 20).toFixed(1)} MB; live tensors after warm-up ${liveAfterWarmup}, at the end ${live}`);
  console.log(`rss_growth_after_warmup=${((rss / rssAfterWarmup - 1) * 100).toFixed(2)}% live_tensor_change=${live - liveAfterWarmup}`);
  net.dispose();
  wOpt.dispose();
  aOpt.dispose();
}
