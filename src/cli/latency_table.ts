/** `autodeeplab latency-table`: time every part of the retrained network on this machine, for search --budget-ms. */
import { Command } from 'commander';
import { genotypeCost } from '../arch/cost_table';
import { BlockGenotype, Genotype, Level, AUTO_DEEPLAB_GENOTYPE } from '../arch/genotype';
import { LatencyTable, validateLatencyTable } from '../arch/latency_table';
import { readJsonFile } from '../util/json';
import { PRIMITIVES, CellOpName } from '../arch/primitives';
import { cellInputsOf } from '../arch/topology';
import { NetworkTrellis } from '../arch/trellis';
import { Clock, measureLatencyTable, RuntimeName, timePart } from '../deploy/latency';
import { buildModel, loadGenotype } from '../model/presets';
import { BadInputError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { int, sizeArg, threadsArg } from './options';

/** Seeded architectures for --check: a cell and a path drawn uniformly at each choice. */
function randomGenotype(seed: number, layers: number, blocks: number): Genotype {
  let s = seed * 2654435761 + 1;
  const r = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
  const ops = PRIMITIVES.filter((p) => p !== 'zero') as CellOpName[];
  const cell = Array.from({ length: blocks }, (_, i) => {
    const inputs = cellInputsOf(i);
    const a = Math.floor(r() * inputs.length);
    const b = (a + 1 + Math.floor(r() * (inputs.length - 1))) % inputs.length;
    return [Math.min(a, b), Math.max(a, b)].map((j) => ({ input: inputs[j], op: ops[Math.floor(r() * ops.length)] })) as unknown as BlockGenotype;
  });
  const t = new NetworkTrellis(layers);
  const path: Level[] = [];
  for (let l = 0, k = 0; l < layers; l++) {
    const arrows = t.arrowsFrom(l, k);
    k = arrows[Math.floor(r() * arrows.length)].to;
    path.push(k as Level);
  }
  return { version: 1, cell: { blocks: cell }, path };
}

interface Flags { genotypes?: string; from?: string; clock: string; runtime: string; size: [number, number]; filterMultiplier: number; blocks: number; classes: number; threads: number; repeats: number; out: string; check: number }

export function latencyTableCommand(): Command {
  return new Command('latency-table')
    .description('time every op at every level and the fixed parts of the retrained network on this machine (for search --budget-ms)')
    .option('--runtime <name>', 'libtorch (this engine) or onnxruntime (onnxruntime-node on exported graphs)', 'onnxruntime')
    .option('--size <HxW>', 'input size of the retrained network', sizeArg, [1024, 2048] as [number, number])
    .option('--filter-multiplier <F>', 'F of the retrained network', int(1), 20)
    .option('--blocks <n>', 'B, blocks per cell (as searched)', int(2), 5)
    .option('--classes <n>', 'number of classes', int(2), 19)
    .option('--threads <n>', 'threads of the runtime (1: least disturbed by a busy machine)', threadsArg, 1)
    .option('--repeats <n>', 'timed samples per part (the median is kept)', int(1), 5)
    .option('--clock <c>', 'cpu: CPU time of the process (robust on a busy machine; with 1 thread, a quiet machine\'s latency) or wall', 'cpu')
    .option('--check <n>', 'then time n decoded architectures end to end (Auto-DeepLab and seeded random ones) against the prediction', int(0), 0)
    .option('--genotypes <files>', 'comma-separated genotype files to time end to end against the prediction (e.g. decoded by search --budget-ms)')
    .option('--from <table>', 'check against this table (its runtime, threads and clock) instead of measuring a new one')
    .option('--out <file>', 'the table (JSON) to write')
    .addHelpText('after', `
Examples:
  $ autodeeplab latency-table --runtime onnxruntime --size 512x1024 --out table.json
  $ autodeeplab latency-table --runtime libtorch --size 256x512 --check 4 --out table.json
  $ autodeeplab search --budget-ms 400 --latency-table table.json
  $ autodeeplab latency-table --from table.json --runtime onnxruntime --genotypes runs/b1/genotype.json`)
    .action(async (o: Flags) => {
      if (o.runtime !== 'libtorch' && o.runtime !== 'onnxruntime') throw new BadInputError(`--runtime: expected libtorch or onnxruntime, got '${o.runtime}'`);
      const runtime = o.runtime as RuntimeName;
      if (o.clock !== 'cpu' && o.clock !== 'wall') throw new BadInputError(`--clock: expected cpu or wall, got '${o.clock}'`);
      const clock = o.clock as Clock;
      const shape = { filterMultiplier: o.filterMultiplier, blocks: o.blocks, numClasses: o.classes, size: o.size };
      if (!o.from && !o.out) throw new BadInputError('latency-table: give --out FILE (or --from TABLE to check an existing table)');
      const data = o.from ? validateLatencyTable(readJsonFile(o.from, '--from'), o.from)
        : await measureLatencyTable(shape, runtime, o.threads, o.repeats, clock, (i, n, key, ms) => process.stderr.write(`\r${i + 1}/${n} ${key.padEnd(24)} ${ms.toFixed(2)} ms   `));
      if (!o.from) {
        writeFileAtomic(o.out!, JSON.stringify(data, null, 1) + '\n');
        process.stderr.write(`\nlatency table (${runtime}, ${clock} clock, ${o.threads} thread(s), ${o.size[0]}x${o.size[1]}, F = ${o.filterMultiplier}): ${o.out}\n`);
      }
      const table = new LatencyTable(data);
      const { shape: t } = table;
      const checks = [...Array.from({ length: o.check }, (_, i) => (i === 0 && t.blocks === 5 ? AUTO_DEEPLAB_GENOTYPE : randomGenotype(i, 12, t.blocks))),
        ...(o.genotypes ? o.genotypes.split(',').map((f) => loadGenotype(f)) : [])];
      for (const g of checks) {
        const model = buildModel({ genotype: g, filterMultiplier: t.filterMultiplier, numClasses: t.numClasses });
        // The table's own runtime, threads and clock.
        const measured = await timePart({ key: 'network', input: [1, 3, t.size[0], t.size[1]], forward: (x) => model.forward(x, false) },
          data.runtime as RuntimeName, data.threads, o.repeats, data.clock);
        model.weights.dispose();
        const predicted = genotypeCost(table, g);
        process.stdout.write(`${JSON.stringify({ path: g.path, predictedMs: +predicted.toFixed(2), measuredMs: +measured.toFixed(2), ratio: +(predicted / measured).toFixed(3) })}\n`);
      }
    });
}
