/** `npm run bench -- <suite> [--threads N] [--device cpu|cuda|cuda:N|auto]`: suites are engine, search, profile, instructions, depthwise, pointwise, pools, batchnorm, data, soak, distributed and digest. */
import * as os from 'node:os';
import { runEngineBench } from './engine';
import { runSearchBench } from './search';
import { runDataBench } from './data';
import { runSoakBench } from './soak';
import { runDistributedBench } from './distributed';
import { runProfileBench } from './profile';
import { runDepthwiseBench } from './depthwise';
import { runPointwiseBench } from './pointwise';
import { runPoolsBench } from './pools';
import { runBatchNormBench } from './batch_norm';
import { runInstructionsBench } from './instructions';
import { runDigestBench } from './digest';
import * as T from '../src/engine';
import { resolveDevice } from '../src/run/device';
import { BadInputError } from '../src/util/errors';

const args = process.argv.slice(2);
const suite = args.find((a) => !a.startsWith('--')) ?? 'engine';
const ti = args.indexOf('--threads');
const threads = ti >= 0 ? Number(args[ti + 1]) : Math.min(2, os.availableParallelism());
// --device: where the search and soak suites run (the search bench's worker processes inherit it).
const di = args.indexOf('--device');
try {
  if (di >= 0) process.env.AUTODEEPLAB_BENCH_DEVICE = resolveDevice(args[di + 1] ?? '');
  if (process.env.AUTODEEPLAB_BENCH_DEVICE) T.setDefaultDevice(process.env.AUTODEEPLAB_BENCH_DEVICE);
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(2);
}

const suites: Record<string, () => Promise<void>> = {
  engine: () => runEngineBench(threads),
  search: () => runSearchBench(threads, args),
  data: () => runDataBench(threads, args),
  soak: () => runSoakBench(threads, args),
  distributed: () => runDistributedBench(args),
  profile: () => runProfileBench(threads, args),
  depthwise: () => runDepthwiseBench(threads, args),
  pointwise: () => runPointwiseBench(threads),
  pools: () => runPoolsBench(threads),
  batchnorm: () => runBatchNormBench(threads, args),
  instructions: () => runInstructionsBench(args),
  digest: () => runDigestBench(threads, args),
};
const run = suites[suite];
if (!run) {
  console.error(`unknown bench suite '${suite}'; choose one of: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
run().catch((e: unknown) => {
  // A bad flag (BadInputError) exits 2 with its message; anything else is a failure with its stack.
  if (e instanceof BadInputError) {
    console.error(`bench ${suite}: ${e.message}`);
    process.exit(2);
  }
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
