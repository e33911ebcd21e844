/** `npm run bench -- <suite> [--threads N]`: suites are engine, search, data and soak. */
import * as os from 'node:os';
import { runEngineBench } from './engine';
import { runSearchBench } from './search';
import { runDataBench } from './data';
import { runSoakBench } from './soak';

const args = process.argv.slice(2);
const suite = args.find((a) => !a.startsWith('--')) ?? 'engine';
const ti = args.indexOf('--threads');
const threads = ti >= 0 ? Number(args[ti + 1]) : Math.min(2, os.availableParallelism());

const suites: Record<string, () => Promise<void>> = {
  engine: () => runEngineBench(threads),
  search: () => runSearchBench(threads, args),
  data: () => runDataBench(threads, args),
  soak: () => runSoakBench(threads, args),
};
const run = suites[suite];
if (!run) {
  console.error(`unknown bench suite '${suite}'; choose one of: ${Object.keys(suites).join(', ')}`);
  process.exit(2);
}
run().catch((e: unknown) => {
  console.error(e instanceof Error ? e.stack : e);
  process.exit(1);
});
