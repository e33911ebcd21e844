/**
 * Option groups declared once and added to every command that takes them:
 * the dataset flags (search, train, eval) and the run flags (search, train;
 * --out and --threads also quickstart, --threads eval). Also how typed flags
 * become configuration: only flags typed on the command line override the
 * --config file, and errors name the flag a bad value came from.
 */
import { Command, Option } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetOptions } from '../data/registry';
import { ConfigLayer } from '../run/config_schema';
import { DEVICE_HELP } from '../run/device';
import { BadInputError } from '../util/errors';
import { int, num, nprocArg, readJsonConfig, scaleList, threadsArg, MAX_THREADS } from './options';

export interface DatasetFlags {
  dataset: string;
  dataRoot?: string;
  split: string;
  coarse?: boolean;
  skipBad?: boolean;
  builtinSize?: number;
  builtinImageSize?: number;
  seed?: number;
}

export interface RunFlags {
  out?: string;
  resume?: boolean;
  maxIterations?: number;
  checkpointEvery: number;
  threads?: number;
  /** cpu, cuda, cuda:N or auto. */
  device: string;
}

/** --dataset, --data-root, --split, --coarse, --skip-bad, --builtin-size, --builtin-image-size, --seed. */
export function addDatasetOptions(cmd: Command, o: { split: string; builtinSize: number; seed?: string }): Command {
  return cmd
    .option('--dataset <name>', 'dataset: builtin, cityscapes, voc, ade20k, folder', 'builtin')
    .option('--data-root <dir>', 'dataset folder (on-disk datasets, official layouts; see README)')
    .option('--split <name>', 'split (voc: train, val, trainval or train_aug; folder: train, val or NAME with NAME.txt)', o.split)
    .option('--coarse', 'cityscapes: gtCoarse labels')
    .option('--skip-bad', 'skip samples that fail to load (listed at the end) instead of stopping')
    .option('--builtin-size <n>', 'builtin: scenes in the split', int(o.builtinSize))
    .option('--builtin-image-size <px>', 'builtin: scene side in pixels', int(16))
    .option('--seed <n>', o.seed ?? 'random seed (weights, data split, batches; builtin scenes)', int(0));
}

type RunOption = 'out' | 'resume' | 'maxIterations' | 'checkpointEvery' | 'threads' | 'device';

/** --out, --resume, --max-iterations, --checkpoint-every, --threads, --device (or the ones named in `only`). */
export function addRunOptions(cmd: Command, o: { label: string; out?: string; only?: RunOption[] }): Command {
  const all: Record<RunOption, () => Option> = {
    out: () => new Option('--out <dir>', `run directory${o.out ? '' : ` (default: runs/${o.label}-<time>)`}`).default(o.out),
    resume: () => new Option('--resume', 'continue the run in --out from its checkpoint (with the same flags)'),
    maxIterations: () => new Option('--max-iterations <n>', 'stop (with a checkpoint) after N iterations in total').argParser(int(0)),
    checkpointEvery: () => new Option('--checkpoint-every <s>', 'seconds between checkpoints (0: after every iteration)').argParser(num(0)).default(300),
    threads: () => new Option('--threads <n>', `libtorch threads, 1..${MAX_THREADS} (default: all cores)`).argParser(threadsArg),
    device: deviceOption,
  };
  for (const name of o.only ?? (Object.keys(all) as RunOption[])) cmd.addOption(all[name]());
  return cmd;
}

/** --scales, --flip (eval, predict): DeepLab's multi-scale inference with flips (src/eval/evaluate.ts). */
export function addInferenceOptions(cmd: Command): Command {
  return cmd
    .option('--scales <list>', 'inference scales, 1 to 8 in [0.25, 4], e.g. 0.5,0.75,1,1.25,1.5,1.75', scaleList, [1])
    .option('--flip', 'also average horizontally flipped inputs');
}

/**
 * --nproc (search, train, eval): data parallelism on this machine (src/run/ddp.ts).
 * shared: what the processes divide besides --threads (eval has no --batch-size).
 */
export function nprocOption(shared = '--batch-size is per process'): Option {
  return new Option('--nproc <n>', `run as N local processes, data-parallel (Gloo; each gets its share of --threads; ${shared})`).argParser(nprocArg);
}

/** --device: where weights, optimiser state and batches live. */
export function deviceOption(): Option {
  return new Option('--device <name>', `device: ${DEVICE_HELP}`).default('auto');
}

/**
 * What openDataset needs, from the dataset flags. A folder dataset's split
 * must be train, val or have a list file: an unknown name would silently
 * select every image.
 */
export function datasetOptions(f: DatasetFlags, seed: number, split = f.split): DatasetOptions {
  if (f.dataset === 'folder' && f.dataRoot && !['train', 'val'].includes(split) && !fs.existsSync(path.join(f.dataRoot, `${split}.txt`))) {
    throw new BadInputError(`--split: dataset 'folder' has no split '${split}' (no ${path.join(f.dataRoot, `${split}.txt`)}; the splits are train, val and NAME for each NAME.txt)`);
  }
  return { root: f.dataRoot, split, builtinSize: f.builtinSize, builtinImageSize: f.builtinImageSize, seed, skipBad: f.skipBad, coarse: f.coarse };
}

/** The long name of the option that sets `field` (its attribute name), for messages. */
function flagOf(cmd: Command, field: string): string {
  return cmd.options.find((o) => o.attributeName() === field)?.long ?? field;
}

/**
 * Configuration layers of a command: `base` (the command's own defaults),
 * then the --config file, then the flags among `fields` that were typed on
 * the command line (a flag's default never overrides the file). `sections`:
 * fields of the file that another resolver reads (search's `budget`).
 */
export function configLayers(cmd: Command, fields: readonly string[], base: Record<string, unknown>, sections: readonly string[] = []): ConfigLayer[] {
  const file = cmd.getOptionValue('config') as string | undefined;
  const typed = Object.fromEntries(fields.filter((f) => cmd.getOptionValueSource(f) === 'cli').map((f) => [f, cmd.getOptionValue(f)]));
  const fromFile = file ? Object.fromEntries(Object.entries(readJsonConfig(file)).filter(([k]) => !sections.includes(k))) : {};
  return [
    { values: base, source: `${cmd.name()} defaults` },
    ...(file ? [{ values: fromFile, source: file }] : []),
    { values: typed, source: (f: string) => flagOf(cmd, f) },
  ];
}
