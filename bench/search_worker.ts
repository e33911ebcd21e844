/**
 * One search-speed measurement in its own process (so that peak RSS is its
 * own): the workload of search_setup.ts, N iterations after one warm-up.
 * argv: crop mode(recompute|keep|plain) iterations threads [cells(shared|untied)] [size(paper|tiny)].
 * Prints one JSON line.
 */
import * as fs from 'node:fs';
import * as T from '../src/engine';
import { median } from './report';
import { estimateSearchBytes } from '../src/search/search_memory';
import { searchWorkload } from './search_setup';

const [crop, mode, iterations, threads] = [Number(process.argv[2]), process.argv[3], Number(process.argv[4]), Number(process.argv[5])];
T.setNumThreads(threads);
if (process.env.AUTODEEPLAB_BENCH_DEVICE) T.setDefaultDevice(process.env.AUTODEEPLAB_BENCH_DEVICE);
const { net, config, iteration } = searchWorkload(crop, mode, process.argv[6] === 'untied', process.argv[7] === 'tiny');
/** This (the main) thread's time on a CPU so far, in seconds: steady where wall time counts a busy host's steal. */
const mainThreadCpu = () => Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e9;
const times: number[] = [];
const cpu: number[] = [];
for (let i = 0; i <= iterations; i++) {
  const [t0, c0] = [process.hrtime.bigint(), mainThreadCpu()];
  iteration();
  if (i > 0) {
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    cpu.push(mainThreadCpu() - c0);
  }
}
const hwm = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) * 1024;
const estimateBytes = estimateSearchBytes({ ...config, crop, recompute: mode === 'recompute' }, net.weights.count());
process.stdout.write(JSON.stringify({ crop, mode, secondsPerIteration: median(times), mainThreadCpuSeconds: median(cpu), peakRssBytes: hwm, estimateBytes, params: net.weights.count() }) + '\n');
