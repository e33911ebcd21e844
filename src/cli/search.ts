/** `autodeeplab search`: the architecture search on a dataset, with progress and a run directory. */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataset, reportSkipped } from '../data/registry';
import { preflightDataset } from '../data/preflight';
import { resolveSearchConfig } from '../search/config';
import { runSearch } from '../search/search';
import { useDevice } from '../run/device';
import { addDatasetOptions, addRunOptions, configLayers, DatasetFlags, datasetOptions, RunFlags } from './option_groups';
import { gracefulStop, int, num, timestamp } from './options';
import { progress } from './progress';
import { addBudgetOptions, budgetFromFlags, budgetSummary } from './budget_options';

/** Flags that set the search configuration of the same name (src/search/config.ts). */
const CONFIG_FLAGS = ['epochs', 'archStartEpoch', 'batchSize', 'crop', 'layers', 'blocks', 'filterMultiplier', 'seed', 'threads',
  'recompute', 'gradClip'] as const;

export function searchCommand(): Command {
  const cmd = new Command('search')
    .description('architecture search (Sec. 4): supernet training with alternating weight and architecture steps')
    .option('--config <file>', 'JSON file of search settings (flags typed on the command line override it)');
  addDatasetOptions(cmd, { split: 'train', builtinSize: 4 })
    .option('--epochs <n>', 'total epochs (paper: 40)', int(1))
    .option('--arch-start-epoch <n>', 'first epoch with architecture steps (paper: 20)', int(0))
    .option('--batch-size <n>', 'images per step (paper: 2)', int(2))
    .option('--crop <px>', 'square training crop (paper: 321)', int(16))
    .option('--layers <n>', 'L, cells after the stem (paper: 12)', int(1))
    .option('--blocks <n>', 'B, blocks per cell (paper: 5)', int(2))
    .option('--filter-multiplier <n>', 'F (paper: 8 during search)', int(1))
    .option('--no-recompute', 'keep all activations for the backward pass (faster, much more memory)')
    .option('--grad-clip <norm>', 'clip the weight gradients to this global norm (0: off, the paper)', num(0));
  addBudgetOptions(cmd);
  return addRunOptions(cmd, { label: 'search' })
    .addHelpText('after', `
Examples:
  $ autodeeplab search                                   # paper settings on the built-in scenes
  $ autodeeplab search --epochs 4 --arch-start-epoch 2 --crop 64 --layers 6 --out runs/s1
  $ autodeeplab search --out runs/s1 --resume            # continue after an interruption
  $ autodeeplab search --budget 250 --out runs/b1        # the best network within 250 B Multi-Adds at 1024x2048, F = 20
  $ autodeeplab search --budget-ms 150 --latency-table table.json   # ... within 150 ms as measured (latency-table)

Writes config.json, metrics.jsonl, genotype.json (+ genotypes/epoch-NNN.json) and
checkpoint.safetensors to the run directory; genotype.json also on every stop.`)
    .action(async (flags: DatasetFlags & RunFlags, command: Command) => {
      useDevice(flags.device);
      const layers = configLayers(command, CONFIG_FLAGS, { threads: os.availableParallelism() });
      const seed = resolveSearchConfig(layers).seed; // the dataset's seed, before its class count is known
      const dsOptions = datasetOptions(flags, seed);
      const dataset = openDataset(flags.dataset, dsOptions);
      await preflightDataset(dataset, `${flags.dataset} ${dsOptions.split} split`);
      const config = resolveSearchConfig([...layers, { values: { numClasses: dataset.numClasses }, source: `dataset '${dataset.name}'` }]);
      const budget = budgetFromFlags(command, config.blocks);
      const out = flags.out ?? path.join('runs', `search-${timestamp()}`);
      let bar: ReturnType<typeof progress> | null = null;
      const result = await runSearch({
        config, dataset, out, budget: budget?.settings, costTable: budget?.table, resume: flags.resume, maxIterations: flags.maxIterations, checkpointEvery: flags.checkpointEvery,
        shouldStop: gracefulStop('search'),
        // Batches are prepared in a worker thread (with --skip-bad, inline, so that every skip is reported).
        datasetSpec: flags.skipBad ? undefined : { name: flags.dataset, options: dsOptions },
        onIteration: (r) => {
          bar ??= progress('search', r.totalIterations);
          bar.update(r.iteration, {
            epoch: `${r.epoch + 1}/${config.epochs}`, phase: r.phase, loss: r.loss, ...(r.archLoss !== null ? { archLoss: r.archLoss } : {}),
            's/it': r.seconds,
          });
        },
      });
      (bar as ReturnType<typeof progress> | null)?.stop();
      reportSkipped(dataset);
      process.stdout.write(`search ${result.completed ? 'finished' : 'stopped'} after ${result.iterations} iterations; ` +
        `genotype: ${path.join(out, 'genotype.json')}\n${JSON.stringify(result.genotype)}\n`);
      if (budget) process.stdout.write(budgetSummary(budget, result.genotype, config));
    });
}
