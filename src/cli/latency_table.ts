/** `autodeeplab latency-table`: time every part of the retrained network on this machine, for search --budget-ms. */
import { Command } from 'commander';
import { genotypeCost } from '../arch/cost_table';
import { AUTO_DEEPLAB_GENOTYPE } from '../arch/genotype';
import { sampleGenotype } from '../arch/random';
import { LatencyTable, validateLatencyTable } from '../arch/latency_table';
import { readJsonFile } from '../util/json';
import { calibrateTable, timeNetwork } from '../deploy/calibrate';
import { Clock, measureLatencyTable, RuntimeName } from '../deploy/latency';
import { loadGenotype } from '../model/presets';
import { BadInputError } from '../util/errors';
import { writeFileAtomic } from '../util/files';
import { Rng } from '../util/random';
import { int, sizeArg, threadsArg } from './options';

interface Flags {
  genotypes?: string; from?: string; clock: string; runtime: string; size: [number, number]; filterMultiplier: number; blocks: number; classes: number;
  threads: number; repeats: number; out: string; check: number; calibrate: number;
}

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
    .option('--calibrate <n>', 'scale the table by measured / predicted over n random whole networks timed end to end (0: off)', int(0), 4)
    .option('--check <n>', 'then time n decoded architectures end to end (Auto-DeepLab and seeded random ones) against the prediction', int(0), 0)
    .option('--genotypes <files>', 'comma-separated genotype files to time end to end against the prediction (e.g. decoded by search --budget-ms)')
    .option('--from <table>', 'check against this table (its runtime, threads and clock) instead of measuring a new one; with --out, calibrate it again into --out')
    .option('--out <file>', 'the table (JSON) to write')
    .addHelpText('after', `
Examples:
  $ autodeeplab latency-table --runtime onnxruntime --size 512x1024 --out table.json
  $ autodeeplab latency-table --runtime libtorch --size 256x512 --check 4 --out table.json
  $ autodeeplab latency-table --size 1024x2048 --clock wall --out table.json   # about 10 min on one core here (calibration included)
  $ autodeeplab search --budget-ms 400 --latency-table table.json
  $ autodeeplab latency-table --from table.json --runtime onnxruntime --genotypes runs/b1/genotype.json`)
    .action(async (o: Flags) => {
      if (o.runtime !== 'libtorch' && o.runtime !== 'onnxruntime') throw new BadInputError(`--runtime: expected libtorch or onnxruntime, got '${o.runtime}'`);
      const runtime = o.runtime as RuntimeName;
      if (o.clock !== 'cpu' && o.clock !== 'wall') throw new BadInputError(`--clock: expected cpu or wall, got '${o.clock}'`);
      const clock = o.clock as Clock;
      const shape = { filterMultiplier: o.filterMultiplier, blocks: o.blocks, numClasses: o.classes, size: o.size };
      if (!o.from && !o.out) throw new BadInputError('latency-table: give --out FILE (or --from TABLE to check an existing table)');
      let data = o.from ? validateLatencyTable(readJsonFile(o.from, '--from'), o.from)
        : await measureLatencyTable(shape, runtime, o.threads, o.repeats, clock, (i, n, key, ms) => process.stderr.write(`\r${i + 1}/${n} ${key.padEnd(24)} ${ms.toFixed(2)} ms   `));
      if (o.out && o.calibrate > 0) {
        process.stderr.write('\n');
        data = await calibrateTable(data, o.calibrate, o.repeats, (i, p, m) => process.stderr.write(`calibration network ${i + 1}/${o.calibrate}: predicted ${p.toFixed(2)} ms, measured ${m.toFixed(2)} ms\n`));
        process.stderr.write(`calibration: every entry x ${data.calibration!.scale.toFixed(3)}\n`);
      }
      if (o.out) {
        writeFileAtomic(o.out!, JSON.stringify(data, null, 1) + '\n');
        const d = data;
        process.stderr.write(`\nlatency table (${d.runtime}, ${d.clock} clock, ${d.threads} thread(s), ${d.shape.size[0]}x${d.shape.size[1]}, F = ${d.shape.filterMultiplier}` +
          `${d.calibration ? `, calibrated x ${d.calibration.scale.toFixed(3)} on ${d.calibration.networks} networks` : ''}): ${o.out}\n`);
      }
      const table = new LatencyTable(data);
      const { shape: t } = table;
      const checks = [...Array.from({ length: o.check }, (_, i) => (i === 0 && t.blocks === 5 ? AUTO_DEEPLAB_GENOTYPE : sampleGenotype(new Rng(i), { layers: 12, blocks: t.blocks }))),
        ...(o.genotypes ? o.genotypes.split(',').map((f) => loadGenotype(f)) : [])];
      const ratios: number[] = [];
      for (const [i, g] of checks.entries()) {
        const measured = await timeNetwork(g, data, o.repeats); // the table's own runtime, threads and clock
        const predicted = genotypeCost(table, g);
        ratios.push(predicted / measured);
        const name = i < o.check ? (g === AUTO_DEEPLAB_GENOTYPE ? 'Auto-DeepLab' : `random ${i}`) : o.genotypes!.split(',')[i - o.check];
        process.stdout.write(`${JSON.stringify({ name, path: g.path, predictedMs: +predicted.toFixed(2), measuredMs: +measured.toFixed(2), ratio: +(predicted / measured).toFixed(3) })}\n`);
      }
      if (ratios.length) {
        const worst = Math.max(...ratios.map((r) => Math.abs(r - 1)));
        process.stderr.write(`predicted / measured over ${ratios.length} architecture(s): ${Math.min(...ratios).toFixed(3)} .. ${Math.max(...ratios).toFixed(3)} (worst ${(100 * worst).toFixed(1)}% off)\n`);
      }
    });
}
