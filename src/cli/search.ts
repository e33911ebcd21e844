/** `autodeeplab search`: the architecture search on a dataset, with progress and a run directory. */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetBaseResize, openDataset, reportSkipped } from '../data/registry';
import { preflightDataset } from '../data/preflight';
import { resolveSearchConfig } from '../search/search_config';
import { runSearch } from '../search/run_search';
import { useDevice } from '../run/device';
import { joinJob, launchSelf, leaveJob, quietStop } from '../run/ddp';
import { estimateSearchBytes } from '../search/search_memory';
import { addDatasetOptions, addRunOptions, configLayers, DatasetFlags, datasetOptions, nprocOption, RunFlags } from './option_groups';
import { gracefulStop, int, num, timestamp } from './options';
import { lateProgress } from './progress';
import { addBudgetOptions, budgetSummary, marginLine, resolveBudget } from './budget_options';
import { budgetConstraint } from '../budget/search_budget';
import { LatencyTable } from '../budget/latency_table';
import { Supernet } from '../search/supernet';
import { verifySearchLatency } from './verify_search_latency';

/** Flags that set the search configuration of the same name (src/search/search_config.ts). */
const CONFIG_FLAGS = ['epochs', 'archStartEpoch', 'batchSize', 'crop', 'layers', 'blocks', 'filterMultiplier', 'seed', 'threads',
  'recompute', 'gradClip', 'untiedCells', 'alphaPerLayer', 'baseScale', 'baseLongerSide', 'augment'] as const;

export function searchCommand(): Command {
  const cmd = new Command('search')
    .description('architecture search (Sec. 4): supernet training with alternating weight and architecture steps')
    .option('--config <file>', 'JSON file of search settings, and a "budget" as config.json records it (flags typed on the command line override it)');
  addDatasetOptions(cmd, { split: 'train', builtinSize: 4 })
    .option('--epochs <n>', 'total epochs (paper: 40)', int(1))
    .option('--arch-start-epoch <n>', 'first epoch with architecture steps (paper: 20)', int(0))
    .option('--batch-size <n>', 'images per step (paper: 2)', int(2))
    .option('--crop <px>', 'square random crop (paper: 321)', int(16))
    .option('--base-scale <x>', 'resize images by x before cropping (default from the dataset: cityscapes 0.5, half resolution as the paper; others 1)', num(0))
    .option('--base-longer-side <px>', 'first resize images so that the longer side is px, 0: off (default: ade20k 513, others 0)', int(0))
    .option('--augment', 'random scale 0.75-1.25 and flip on the crops (default: plain random crops, as the paper)')
    .option('--layers <n>', 'L, cells after the stem (paper: 12)', int(1))
    .option('--blocks <n>', 'B, blocks per cell (paper: 5)', int(2))
    .option('--filter-multiplier <n>', 'F (paper: 8 during search)', int(1))
    .option('--recompute', 'recompute activations layer by layer in the backward pass (default: only when keeping them would take over half the memory)')
    .option('--no-recompute', 'keep all activations for the backward pass (faster, much more memory)')
    .option('--grad-clip <norm>', 'clip the weight gradients to this global norm (0: off, the paper)', num(0))
    .option('--untied-cells', 'each arrow into a node has a cell with its own weights (default: the cells into a node share them)')
    .option('--alpha-per-layer', 'one alpha per layer, one decoded cell per layer (the paper\'s future work, Sec. 6)');
  addBudgetOptions(cmd);
  return addRunOptions(cmd, { label: 'search' }).addOption(nprocOption())
    .addHelpText('after', `
Examples:
  $ autodeeplab search                                   # paper settings on the built-in scenes
  $ autodeeplab search --dataset cityscapes --data-root data/cityscapes   # the paper's: 321 crops of 512x1024 images
  $ autodeeplab search --epochs 4 --arch-start-epoch 2 --crop 64 --layers 6 --out runs/s1
  $ autodeeplab search --out runs/s1 --resume            # continue after an interruption
  $ autodeeplab search --nproc 2 --threads 4 --batch-size 2 ... --out runs/s2   # 2 data-parallel processes, global batch 4
  $ RANK=0 WORLD_SIZE=2 MASTER_ADDR=host0 MASTER_PORT=29500 autodeeplab search ...   # one rank of a multi-machine job (README: Distributed)
  $ autodeeplab search --budget 250 --out runs/b1        # the best network within 250 B Multi-Adds at 1024x2048, F = 20
  $ autodeeplab search --budget-ms 150 --latency-table table.json   # ... within 150 ms as measured (latency-table), less a margin for its error
  $ autodeeplab search --budget-ms 150 --latency-table table.json --budget-margin 0.05   # ... decoded within 142.5 ms
  $ autodeeplab search --budget-ms 150 --latency-table table.json --verify-latency   # ... then timed, and decoded within less while over 150 ms
  $ autodeeplab search --config c.json    # c.json: {"layers": 12, "budget": {"limit": 250e9, "unit": "multiAdds"}}

Writes config.json, metrics.jsonl, genotype.json (+ genotypes/epoch-NNN.json) and
checkpoint.safetensors to the run directory; genotype.json also on every stop;
with --verify-latency, latency-verify.json (every round's network and times).`)
    .action(async (flags: DatasetFlags & RunFlags & { nproc?: number }, command: Command) => {
      const device = useDevice(flags.device);
      const base = datasetBaseResize(flags.dataset, 'search');
      const layers = configLayers(command, CONFIG_FLAGS, { threads: os.availableParallelism(), baseScale: base.scale, baseLongerSide: base.longerSide }, ['budget']);
      const early = resolveSearchConfig(layers); // the dataset's seed, before its class count is known
      const { seed, threads } = early;
      if (flags.nproc !== undefined && flags.nproc > 1) {
        process.exitCode = await launchSelf(flags.nproc, threads, { bytes: estimateSearchBytes(early, 0), what: 'the search\'s estimate without its weights' });
        return;
      }
      const parallel = (await joinJob(device)) ?? undefined; // a rank of --nproc, torchrun or Slurm: only rank 0 writes and prints
      const main = !parallel || parallel.rank === 0;
      const dsOptions = datasetOptions(flags, seed);
      const dataset = openDataset(flags.dataset, dsOptions);
      await preflightDataset(dataset, `${flags.dataset} ${dsOptions.split} split`);
      const config = resolveSearchConfig([...layers, { values: { numClasses: dataset.numClasses }, source: `dataset '${dataset.name}'` }]);
      const budget = resolveBudget(command, config); // the flags over the --config file's `budget`
      if (main && budget) process.stderr.write(marginLine(budget.settings));
      const out = flags.out ?? path.join('runs', `search-${timestamp()}`);
      const bar = lateProgress('search');
      let final: { net: ReturnType<Supernet['snapshot']>; trellis: Supernet['trellis'] } | undefined; // what --verify-latency decodes again
      const result = await runSearch({
        config, dataset, out, constraint: budget && budgetConstraint(budget.settings, budget.table, budget.source), resume: flags.resume, maxIterations: flags.maxIterations, checkpointEvery: flags.checkpointEvery,
        shouldStop: main ? gracefulStop('search') : quietStop(), parallel,
        // Batches are prepared in a worker thread (with --skip-bad, inline, so that every skip is reported).
        datasetSpec: flags.skipBad ? undefined : { name: flags.dataset, options: dsOptions },
        onNote: (line) => main && process.stderr.write(`search: ${line}\n`),
        onEnd: (net) => void (final = { net: net.snapshot(), trellis: net.trellis }),
        onIteration: (r) => {
          if (!main) return;
          bar.update(r.iteration, r.totalIterations, {
            epoch: `${r.epoch + 1}/${config.epochs}`, phase: r.phase, loss: r.loss, ...(r.archLoss !== null ? { archLoss: r.archLoss } : {}),
            's/it': r.seconds,
          });
        },
      }).finally(() => bar.stop());
      leaveJob(); // (an error ends the process, and the job, from src/cli/main.ts)
      if (!main) return;
      reportSkipped(dataset);
      let genotype = result.genotype;
      if (budget?.settings.verify && !result.completed) process.stderr.write('search: not timed (--verify-latency): the search stopped before its end; --resume finishes and times it\n');
      if (budget?.settings.verify && result.completed && final) {
        genotype = await verifySearchLatency({
          out, settings: budget.settings, table: budget.table as LatencyTable, alpha: final.net.alpha, beta: final.net.beta, trellis: final.trellis, resume: flags.resume ?? false,
          print: (line) => process.stdout.write(`${line}\n`), warn: (line) => process.stderr.write(`${line}\n`),
        });
      }
      process.stdout.write(`search ${result.completed ? 'finished' : 'stopped'} after ${result.iterations} iterations; ` +
        `genotype: ${path.join(out, 'genotype.json')}\n${JSON.stringify(genotype)}\n`);
      if (budget) process.stdout.write(budgetSummary(budget, genotype, config));
    });
}
