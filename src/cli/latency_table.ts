/** `autodeeplab latency-table`: time every part of the retrained network on this machine, for search --budget-ms. */
import { Command } from 'commander';
import { genotypeCost } from '../budget/cost_table';
import { AUTO_DEEPLAB_GENOTYPE, cellOfLayer } from '../arch/genotype';
import { loadGenotype } from '../arch/genotype_file';
import { sampleGenotype } from '../arch/random';
import { CheckedNetwork, LatencyTable, LatencyTableData, validateLatencyTable } from '../budget/latency_table';
import { tableMargin } from '../budget/budget_margin';
import { readJsonFile } from '../util/json';
import { calibrateTable, DEFAULT_REPEATS, timeNetwork } from '../deploy/calibrate';
import { Clock, measureLatencyTable, RuntimeName } from '../deploy/latency';
import { closeBrowserRuntimes } from '../deploy/web/runtime';
import { BadInputError } from '../util/errors';
import { checkOutputPath, writeFileAtomic } from '../util/files';
import { Rng } from '../util/random';
import { BLOCKS } from '../arch/space';
import { int, intIn, sizeArg, threadsArg } from './options';
import { lateProgress } from './progress';

interface Flags {
  genotypes?: string; from?: string; clock: string; runtime: string; size: [number, number]; filterMultiplier: number; blocks: number; classes: number;
  threads: number; repeats: number; out: string; check: number; calibrate: number; layers: number;
}

/** The flags that say how to measure a table: fixed by the table of --from. */
const MEASURING = ['runtime', 'size', 'filterMultiplier', 'blocks', 'classes', 'threads', 'clock'] as const;

export function latencyTableCommand(): Command {
  return new Command('latency-table')
    .description('time every op at every level and the fixed parts of the retrained network on this machine (for search --budget-ms)')
    .option('--runtime <name>', 'libtorch (this engine), onnxruntime (onnxruntime-node on exported graphs) or web (onnxruntime-web, WASM, in headless Chromium)', 'onnxruntime')
    .option('--size <HxW>', 'input size of the retrained network', sizeArg, [1024, 2048] as [number, number])
    .option('--filter-multiplier <F>', 'F of the retrained network', int(1), 20)
    .option('--blocks <n>', `B, blocks per cell (as searched), ${BLOCKS.min}..${BLOCKS.max} as search --blocks`, intIn(BLOCKS.min, BLOCKS.max, `as search --blocks: ${BLOCKS.why}`), 5)
    .option('--classes <n>', 'number of classes', int(2), 19)
    .option('--threads <n>', 'threads of the runtime (1: least disturbed by a busy machine)', threadsArg, 1)
    .option('--repeats <n>', 'timed samples per part (the median is kept)', int(1), DEFAULT_REPEATS)
    .option('--clock <c>', 'cpu: CPU time of the process (web: of the browser\'s renderer; robust on a busy machine; with 1 thread, a quiet machine\'s latency) or wall', 'cpu')
    .option('--calibrate <n>', 'scale the table by measured / predicted over n random whole networks timed end to end (0: off)', int(0), 4)
    .option('--layers <n>', 'L of the random networks of --calibrate and --check (as searched: a 12-layer table can be off by 10% on 4-layer networks)', int(1), 12)
    .option('--check <n>', 'then time n architectures end to end (Auto-DeepLab and seeded random ones) against the prediction, and record the result in the table '
      + '(--out, else the table of --from), from which search --budget-ms takes its margin', int(0), 0)
    .option('--genotypes <files>', 'comma-separated genotype files to time end to end against the prediction (e.g. decoded by search --budget-ms; printed, not recorded)')
    .option('--from <table>', 'check against this table (its runtime, threads and clock) instead of measuring a new one; with --out, calibrate it again into --out')
    .option('--out <file>', 'the table (JSON) to write')
    .addHelpText('after', `
Examples:
  $ autodeeplab latency-table --runtime onnxruntime --size 512x1024 --out table.json
  $ autodeeplab latency-table --runtime libtorch --size 256x512 --check 4 --out table.json
  $ autodeeplab latency-table --size 1024x2048 --clock wall --out table.json   # about 10 min on one core here (calibration included)
  $ autodeeplab search --budget-ms 400 --latency-table table.json
  $ autodeeplab latency-table --from table.json --check 6                 # check the table again (rewrites its "check")
  $ autodeeplab latency-table --from table.json --genotypes runs/b1/genotype.json`)
    .action(async (o: Flags, cmd: Command) => {
      try {
        await latencyTable(o, cmd);
      } finally {
        await closeBrowserRuntimes(); // --runtime web's browser
      }
    });
}

async function latencyTable(o: Flags, cmd: Command): Promise<void> {
  if (!['libtorch', 'onnxruntime', 'web'].includes(o.runtime)) throw new BadInputError(`--runtime: expected libtorch, onnxruntime or web, got '${o.runtime}'`);
  const runtime = o.runtime as RuntimeName;
  if (o.clock !== 'cpu' && o.clock !== 'wall') throw new BadInputError(`--clock: expected cpu or wall, got '${o.clock}'`);
  const clock = o.clock as Clock;
  const shape = { filterMultiplier: o.filterMultiplier, blocks: o.blocks, numClasses: o.classes, size: o.size };
  if (!o.from && !o.out) throw new BadInputError('latency-table: give --out FILE (or --from TABLE to check an existing table)');
  // Everything a user can get wrong is checked before minutes of timing.
  if (o.from) {
    const fixed = MEASURING.find((f) => cmd.getOptionValueSource(f) === 'cli');
    if (fixed) throw new BadInputError(`--${fixed.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: the table given by --from fixes it (measure a new table without --from)`);
    if (!o.out && !o.check && !o.genotypes) throw new BadInputError('latency-table --from: nothing to do; give --check N, --genotypes FILES or --out FILE (to calibrate it again)');
  }
  if (o.out) checkOutputPath('--out', o.out, 'file');
  const genotypes = o.genotypes === undefined ? [] : o.genotypes.split(',').map((f) => {
    if (!f.trim()) throw new BadInputError(`--genotypes: an empty file name in '${o.genotypes}' (expected comma-separated genotype files)`);
    return { file: f, genotype: loadGenotype(f, '--genotypes') };
  });
  const fromTable = o.from ? validateLatencyTable(readJsonFile(o.from, '--from'), o.from) : null;
  const blocks = fromTable?.shape.blocks ?? o.blocks;
  for (const { file, genotype } of genotypes) {
    const b = cellOfLayer(genotype, 0).blocks.length;
    if (b !== blocks) throw new BadInputError(`--genotypes: ${file} has cells of B = ${b} blocks, the table is for B = ${blocks}`);
  }
  const bar = lateProgress('latency-table');
  let data: LatencyTableData;
  try {
    data = fromTable ?? await measureLatencyTable(shape, runtime, o.threads, o.repeats, clock, (i, n, key, ms) => bar.update(i + 1, n, { part: key, ms }));
  } finally {
    bar.stop();
  }
  if (o.out && o.calibrate > 0) {
    data = await calibrateTable(data, o.calibrate, o.repeats, o.layers, (i, p, m) => process.stderr.write(`calibration network ${i + 1}/${o.calibrate}: predicted ${p.toFixed(2)} ms, measured ${m.toFixed(2)} ms\n`));
    process.stderr.write(`calibration: every entry x ${data.calibration!.scale.toFixed(3)}\n`);
  }
  if (o.out) {
    writeFileAtomic(o.out!, JSON.stringify(data, null, 1) + '\n');
    const d = data;
    process.stdout.write(`latency table (${d.runtime}, ${d.clock} clock, ${d.threads} thread(s), ${d.shape.size[0]}x${d.shape.size[1]}, F = ${d.shape.filterMultiplier}` +
      `${d.calibration ? `, calibrated x ${d.calibration.scale.toFixed(3)} on ${d.calibration.networks} networks` : ''}): ${o.out}\n`);
  }
  const table = new LatencyTable(data);
  const { shape: t } = table;
  const checks = [...Array.from({ length: o.check }, (_, i) => (i === 0 && t.blocks === 5 ? AUTO_DEEPLAB_GENOTYPE : sampleGenotype(new Rng(i), { layers: o.layers, blocks: t.blocks }))),
    ...genotypes.map((g) => g.genotype)];
  const ratios: number[] = [];
  const checked: CheckedNetwork[] = [];
  for (const [i, g] of checks.entries()) {
    const measured = await timeNetwork(g, data, o.repeats); // the table's own runtime, threads and clock
    const predicted = genotypeCost(table, g);
    ratios.push(predicted / measured);
    const name = i < o.check ? (g === AUTO_DEEPLAB_GENOTYPE ? 'Auto-DeepLab' : `random ${i}`) : genotypes[i - o.check].file;
    if (i < o.check) checked.push({ name, predictedMs: predicted, measuredMs: measured });
    process.stdout.write(`${JSON.stringify({ name, path: g.path, predictedMs: +predicted.toFixed(2), measuredMs: +measured.toFixed(2), ratio: +(predicted / measured).toFixed(3) })}\n`);
  }
  if (ratios.length) {
    const worst = Math.max(...ratios.map((r) => Math.abs(r - 1)));
    process.stdout.write(`predicted / measured over ${ratios.length} architecture(s): ${Math.min(...ratios).toFixed(3)} .. ${Math.max(...ratios).toFixed(3)} (worst ${(100 * worst).toFixed(1)}% off)\n`);
  }
  if (checked.length) {
    // The table's own check, replacing any earlier one. Not --genotypes: those are the user's (a search's result, measured
    // again and again), and measuring them should not change the margin of the next search.
    const file = o.out ?? o.from!;
    const recorded: LatencyTableData = { ...data, check: { networks: checked } };
    writeFileAtomic(file, JSON.stringify(recorded, null, 1) + '\n');
    const { margin } = tableMargin(recorded);
    process.stdout.write(`check recorded in ${file}: search --budget-ms with it decodes within the budget less ${(100 * margin).toFixed(2)}%\n`);
  }
}
