/**
 * One search-speed measurement in its own process (so that peak RSS is its
 * own): the paper's supernet (F=8, B=5, L=12, 19 classes), batch 2, random
 * data; N iterations of weight step + architecture step after one warm-up.
 * argv: crop mode(recompute|keep|plain) iterations threads [cells(shared|untied)] [size(paper|tiny)].
 * Prints one JSON line.
 */
import * as fs from 'node:fs';
import * as T from '../src/engine';
import { archStep, weightStep } from '../src/search/architect';
import { DEFAULT_SEARCH_CONFIG } from '../src/search/config';
import { Supernet } from '../src/search/supernet';
import { referenceSupernet } from '../src/search/reference/network';
import { median } from './report';
import { estimateSearchBytes } from '../src/search/memory';

const [crop, mode, iterations, threads] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
const untiedCells = process.argv[6] === 'untied';
const tiny = process.argv[7] === 'tiny'; // a small supernet that checks the bench runs
T.setNumThreads(threads);
if (process.env.AUTODEEPLAB_BENCH_DEVICE) T.setDefaultDevice(process.env.AUTODEEPLAB_BENCH_DEVICE);
T.manualSeed(0);
// Built without resolveSearchConfig: crop 32 (1x1 maps at stride 32) is measured for comparison with the peer.
const recompute = mode === 'recompute';
const cfg = { ...DEFAULT_SEARCH_CONFIG, numClasses: 19, untiedCells, ...(tiny ? { layers: 2, blocks: 2, filterMultiplier: 2 } : {}) };
// 'plain': the op-by-op reference cells (search/reference), for comparison.
const net = mode === 'plain' ? referenceSupernet(cfg, { recompute }) : new Supernet(cfg, { recompute });
const wOpt = new T.SGD(net.weights.parameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
const aOpt = new T.Adam(net.archParameters(), { lr: 3e-3, weightDecay: 1e-3 });
const batch = () => ({ images: T.randn([2, 3, crop, crop]), labels: T.randint(0, 19, [2, crop, crop]) });
const times: number[] = [];
for (let i = 0; i <= iterations; i++) {
  const t0 = process.hrtime.bigint();
  T.tidy(() => weightStep(net, wOpt, batch(), 0));
  T.tidy(() => archStep(net, aOpt, batch()));
  T.synchronize(); // queued GPU work counts (a no-op on the CPU)
  if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
const hwm = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const estimateBytes = estimateSearchBytes({ ...cfg, crop, recompute }, net.weights.count());
process.stdout.write(JSON.stringify({ crop, mode, secondsPerIteration: median(times), peakRssBytes: hwm, estimateBytes, params: net.weights.count() }) + '\n');
