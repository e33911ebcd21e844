/** `autodeeplab search`: the architecture search on a dataset, with progress and a run directory. */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataset, reportSkipped } from '../data/registry';
import { resolveSearchConfig, SearchConfig } from '../search/config';
import { runSearch } from '../search/search';
import { gracefulStop, int, num, readJsonConfig, timestamp } from './options';
import { progress } from './progress';

interface SearchFlags {
  config?: string;
  dataset: string;
  dataRoot?: string;
  builtinSize?: number;
  builtinImageSize?: number;
  epochs?: number;
  archStartEpoch?: number;
  batchSize?: number;
  crop?: number;
  layers?: number;
  blocks?: number;
  filterMultiplier?: number;
  seed?: number;
  threads?: number;
  out?: string;
  resume?: boolean;
  maxIterations?: number;
  checkpointEvery: number;
  recompute?: boolean;
  gradClip?: number;
  skipBad?: boolean;
  coarse?: boolean;
}

const FLAG_TO_FIELD: [keyof SearchFlags, keyof SearchConfig][] = [
  ['epochs', 'epochs'], ['archStartEpoch', 'archStartEpoch'], ['batchSize', 'batchSize'], ['crop', 'crop'],
  ['layers', 'layers'], ['blocks', 'blocks'], ['filterMultiplier', 'filterMultiplier'], ['seed', 'seed'], ['threads', 'threads'],
  ['recompute', 'recompute'], ['gradClip', 'gradClip'],
];

export function searchCommand(): Command {
  return new Command('search')
    .description('architecture search (Sec. 4): supernet training with alternating weight and architecture steps')
    .option('--config <file>', 'JSON file of search settings (flags override it)')
    .option('--dataset <name>', 'dataset: builtin, cityscapes, voc, ade20k, folder', 'builtin')
    .option('--data-root <dir>', 'dataset folder (on-disk datasets, official layouts; see README)')
    .option('--coarse', 'cityscapes: gtCoarse labels')
    .option('--skip-bad', 'skip samples that fail to load (listed at the end) instead of stopping')
    .option('--builtin-size <n>', 'builtin: training scenes', int(4))
    .option('--builtin-image-size <px>', 'builtin: scene side in pixels', int(16))
    .option('--epochs <n>', 'total epochs (paper: 40)', int(1))
    .option('--arch-start-epoch <n>', 'first epoch with architecture steps (paper: 20)', int(0))
    .option('--batch-size <n>', 'images per step (paper: 2)', int(2))
    .option('--crop <px>', 'square training crop (paper: 321)', int(16))
    .option('--layers <n>', 'L, cells after the stem (paper: 12)', int(1))
    .option('--blocks <n>', 'B, blocks per cell (paper: 5)', int(2))
    .option('--filter-multiplier <n>', 'F (paper: 8 during search)', int(1))
    .option('--seed <n>', 'random seed', int(0))
    .option('--no-recompute', 'keep all activations for the backward pass (faster, much more memory)')
    .option('--grad-clip <norm>', 'clip the weight gradients to this global norm (0: off, the paper)', num(0))
    .option('--threads <n>', 'libtorch threads (default: all cores)', int(1))
    .option('--out <dir>', 'run directory (default: runs/search-<time>)')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .option('--max-iterations <n>', 'stop (with a checkpoint) after N iterations in total', int(0))
    .option('--checkpoint-every <s>', 'seconds between mid-epoch checkpoints (0: every iteration)', num(0), 300)
    .addHelpText('after', `
Examples:
  $ autodeeplab search                                   # paper settings on the built-in scenes
  $ autodeeplab search --epochs 4 --arch-start-epoch 2 --crop 64 --layers 6 --out runs/s1
  $ autodeeplab search --out runs/s1 --resume            # continue after an interruption

Writes config.json, metrics.jsonl, genotype.json (+ genotypes/epoch-NNN.json) and
checkpoint.safetensors to the run directory.`)
    .action(async (flags: SearchFlags, cmd: Command) => {
      const file = flags.config ? readJsonConfig(flags.config) : {};
      const fromFlags: Partial<SearchConfig> = {};
      for (const [flag, field] of FLAG_TO_FIELD) {
        // Only what was typed overrides the config file (--no-recompute has an implicit default).
        if (flags[flag] !== undefined && cmd.getOptionValueSource(flag) === 'cli') (fromFlags as Record<string, unknown>)[field] = flags[flag];
      }
      const dsOptions = {
        root: flags.dataRoot, split: 'train', builtinSize: flags.builtinSize, builtinImageSize: flags.builtinImageSize,
        seed: (fromFlags.seed ?? (file.seed as number | undefined)) ?? 0, skipBad: flags.skipBad, coarse: flags.coarse,
      };
      const dataset = openDataset(flags.dataset, dsOptions);
      const config = resolveSearchConfig({
        threads: os.availableParallelism(), ...file, ...fromFlags, numClasses: dataset.numClasses,
      } as Partial<SearchConfig>, flags.config ?? 'search flags');
      const out = flags.out ?? path.join('runs', `search-${timestamp()}`);
      const stop = gracefulStop('search');
      let bar: ReturnType<typeof progress> | null = null;
      const result = await runSearch({
        config, dataset, out, resume: flags.resume, maxIterations: flags.maxIterations, checkpointEvery: flags.checkpointEvery,
        shouldStop: stop,
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
    });
}
