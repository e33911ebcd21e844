/**
 * `autodeeplab compare --genotype G --random-baseline K [--seeds N]`: the
 * searched architecture against K drawn from the same space (cell and path),
 * by default uniformly among those of equal cost (Multi-Adds within
 * --cost-band of the searched one's), each retrained with exactly the same
 * settings and seed and evaluated on the same held-out split, at each of N
 * seeds (src/train/baseline.ts). Prints the table and the paired test, writes
 * comparison.json; `autodeeplab report OUT` plots it.
 */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataset } from '../data/registry';
import { preflightDataset } from '../data/preflight';
import { modelConfig } from '../model/presets';
import { resolveTrainConfig } from '../train/train_config';
import { formatComparison, RandomMode, runComparison } from '../train/baseline';
import { InvalidArgumentError } from 'commander';
import { useDevice } from '../run/device';
import { readGenotypeFile } from '../arch/genotype_file';
import { addDatasetOptions, addRunOptions, configLayers, DatasetFlags, datasetOptions, RunFlags } from './option_groups';
import { gracefulStop, int, intIn, num, numIn, timestamp } from './options';
import { progress } from './progress';

interface CompareFlags extends DatasetFlags, RunFlags {
  genotype: string; randomBaseline: number; randomBaselineMode: RandomMode; costBand: number; seeds: number; filterMultiplier: number; bnMomentum?: number; dropPathKeep?: number; valSize?: number;
}

const CONFIG_FLAGS = ['crop', 'batchSize', 'iterations', 'lr', 'seed', 'threads'] as const;

/** --random-baseline-mode: equal-cost or uniform. */
export function randomMode(v: string): RandomMode {
  if (v !== 'equal-cost' && v !== 'uniform') throw new InvalidArgumentError(`expected equal-cost or uniform, got '${v}'`);
  return v;
}

export function compareCommand(): Command {
  const cmd = new Command('compare')
    .description('searched vs random: retrain the searched genotype and K uniformly random ones with the same settings and seed, compare held-out mIoU')
    .requiredOption('--genotype <file>', 'the searched genotype (genotype.json of a search)')
    .option('--random-baseline <k>', 'K random architectures per seed (cells and network paths of the same B and L)', int(1), 4)
    .option('--random-baseline-mode <mode>', 'equal-cost: uniform among architectures within --cost-band of the searched one\'s Multi-Adds; uniform: over the whole space', randomMode, 'equal-cost')
    .option('--cost-band <x>', 'relative half-width of the equal-cost band (Multi-Adds of the retrained network at the training crop)', numIn(0, 1, true), 0.05)
    .option('--seeds <n>', 'retrain searched and random networks at N seeds (--seed .. --seed + N - 1; each seed draws its own random ones); paired test', intIn(1, 20), 1)
    .option('--filter-multiplier <n>', 'F of every architecture', int(1), 8)
    .option('--config <file>', 'JSON file of training settings (flags typed on the command line override it)');
  addDatasetOptions(cmd, { split: 'train', builtinSize: 8 })
    .option('--val-size <n>', 'builtin: held-out scenes (default 50)', int(1))
    .option('--crop <px>', 'square training crop', int(16))
    .option('--batch-size <n>', 'images per step', int(2))
    .option('--iterations <n>', 'iterations of the LR schedule', int(1))
    .option('--lr <x>', 'initial learning rate', num(0))
    .option('--bn-momentum <x>', 'BN running-statistics momentum in [0, 1], PyTorch convention', numIn(0, 1))
    .option('--drop-path-keep <p>', 'scheduled drop path keep probability in (0, 1]', numIn(0, 1, true));
  return addRunOptions(cmd, { label: 'compare', only: ['out', 'threads', 'device'] })
    .addHelpText('after', `
Example:
  $ autodeeplab compare --genotype runs/s1/genotype.json --random-baseline 4 --filter-multiplier 8 --crop 64 \\
      --iterations 300 --batch-size 8 --bn-momentum 0.1 --builtin-size 96 --builtin-image-size 96 --out runs/cmp
  $ autodeeplab report runs/cmp

Writes OUT/searched/, OUT/random-1/ .. (training runs; OUT/seed-S/... with --seeds N > 1) and
OUT/comparison.json (each network's genotype, Multi-Adds and metrics). Run again with
the same flags to continue: finished architectures are kept, an interrupted one resumes.`)
    .action(async (f: CompareFlags, command: Command) => {
      useDevice(f.device);
      const train = resolveTrainConfig(configLayers(command, CONFIG_FLAGS, { threads: os.availableParallelism() }));
      const searched = readGenotypeFile(f.genotype).genotype;
      const trainOptions = datasetOptions(f, train.seed);
      const dataset = openDataset(f.dataset, trainOptions);
      const valDataset = openDataset(f.dataset, datasetOptions({ ...f, builtinSize: f.valSize }, train.seed, 'val'));
      await preflightDataset(dataset, `${f.dataset} ${trainOptions.split} split`);
      await preflightDataset(valDataset, `${f.dataset} val split`);
      const out = f.out ?? path.join('runs', `compare-${timestamp()}`);
      const bn = f.bnMomentum !== undefined ? { momentum: f.bnMomentum, eps: 1e-3 } : undefined;
      let bar: ReturnType<typeof progress> | null = null;
      const c = await runComparison({
        searched, randomCount: f.randomBaseline, randomMode: f.randomBaselineMode, costBand: f.costBand,
        seeds: Array.from({ length: f.seeds }, (_, i) => train.seed + i), train, dataset, valDataset, out,
        modelOf: (genotype) => modelConfig({ genotype, filterMultiplier: f.filterMultiplier, numClasses: dataset.numClasses, bn, dropPathKeep: f.dropPathKeep }),
        datasetSpec: f.skipBad ? undefined : { name: f.dataset, options: trainOptions }, shouldStop: gracefulStop('compare'),
        onStart: (name, i, total) => {
          bar?.stop();
          process.stderr.write(`compare: ${name} (${i + 1}/${total}) -> ${path.join(out, name)}\n`);
          bar = progress('train', train.iterations);
          return (x) => bar!.update(x.iteration, { loss: x.loss, 's/it': x.seconds });
        },
      });
      (bar as ReturnType<typeof progress> | null)?.stop();
      process.stdout.write(formatComparison(c) + `  table: ${path.join(out, 'comparison.json')}; plot: autodeeplab report ${out}\n`);
    });
}
