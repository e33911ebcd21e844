/** `autodeeplab train` and `autodeeplab eval`: retrain a decoded architecture, then measure it. */
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../engine';
import { openDataset, reportSkipped } from '../data/registry';
import { evaluateDataset } from '../eval/evaluate';
import { loadGenotype, modelConfig } from '../model/presets';
import { loadModel } from '../model/saved';
import { resolveTrainConfig, TrainConfig } from '../train/config';
import { runTraining } from '../train/trainer';
import { gracefulStop, int, num, readJsonConfig, scaleList, timestamp } from './options';
import { progress } from './progress';
import { BadInputError } from '../util/errors';

interface TrainFlags {
  arch?: string; genotype?: string; filterMultiplier?: number; dataset: string; dataRoot?: string;
  builtinSize?: number; builtinImageSize?: number; crop?: number; batchSize?: number; iterations?: number;
  maxIterations?: number; out?: string; resume?: boolean; seed?: number; lr?: number; threads?: number;
  split?: string; evalEvery?: number; bnMomentum?: number; dropPathKeep?: number; config?: string; checkpointEvery: number;
  skipBad?: boolean; coarse?: boolean;
}

export function trainCommand(): Command {
  return new Command('train')
    .description('retrain a decoded architecture (Sec. 5.2): poly LR, random scale/crop/flip, scheduled drop path')
    .option('--arch <name>', 'preset: autodeeplab-s, autodeeplab-m, autodeeplab-l (default when no --genotype)')
    .option('--genotype <file>', 'genotype JSON written by search (built exactly)')
    .option('--filter-multiplier <n>', 'F for a genotype (default 20, Auto-DeepLab-S)', int(1))
    .option('--config <file>', 'JSON file of training settings (flags override it)')
    .option('--dataset <name>', 'dataset: builtin, cityscapes, voc, ade20k, folder', 'builtin')
    .option('--data-root <dir>', 'dataset folder (on-disk datasets, official layouts; see README)')
    .option('--split <name>', 'training split (voc: train, trainval or train_aug)', 'train')
    .option('--coarse', 'cityscapes: gtCoarse labels')
    .option('--skip-bad', 'skip samples that fail to load (listed at the end) instead of stopping')
    .option('--builtin-size <n>', 'builtin: training scenes', int(8))
    .option('--builtin-image-size <px>', 'builtin: scene side in pixels', int(16))
    .option('--crop <px>', 'square training crop (paper: 769 on Cityscapes)', int(16))
    .option('--batch-size <n>', 'images per step', int(2))
    .option('--iterations <n>', 'iterations of the LR schedule (paper: 1.5M)', int(1))
    .option('--max-iterations <n>', 'stop (with a checkpoint) after N iterations', int(0))
    .option('--lr <x>', 'initial learning rate (paper: 0.05)', num(0))
    .option('--bn-momentum <x>', 'BN running-statistics momentum, PyTorch convention (released: 0.0003)', num(0))
    .option('--drop-path-keep <p>', 'scheduled drop path: keep probability of the last cell at the end (1: off)', num(0))
    .option('--eval-every <n>', 'validate every N iterations', int(0))
    .option('--seed <n>', 'random seed', int(0))
    .option('--threads <n>', 'libtorch threads (default: all cores)', int(1))
    .option('--out <dir>', 'run directory (default: runs/train-<time>)')
    .option('--resume', 'continue the run in --out from its checkpoint')
    .option('--checkpoint-every <s>', 'seconds between checkpoints', num(0), 300)
    .addHelpText('after', `
Examples:
  $ autodeeplab train --genotype runs/s1/genotype.json --filter-multiplier 8 --crop 64 --iterations 300 --out runs/t1
  $ autodeeplab train --arch autodeeplab-s --dataset builtin --iterations 1000
  $ autodeeplab train --out runs/t1 --resume ...same flags...

Writes config.json, metrics.jsonl, checkpoint.safetensors and, at the end, model.safetensors.`)
    .action(async (f: TrainFlags) => {
      const file = f.config ? readJsonConfig(f.config) : {};
      const fromFlags: Partial<TrainConfig> = {};
      const set = <K extends keyof TrainConfig>(k: K, v: TrainConfig[K] | undefined) => { if (v !== undefined) fromFlags[k] = v; };
      set('crop', f.crop); set('batchSize', f.batchSize); set('iterations', f.iterations); set('lr', f.lr);
      set('seed', f.seed); set('threads', f.threads); set('evalEvery', f.evalEvery);
      const train = resolveTrainConfig({ threads: os.availableParallelism(), ...file, ...fromFlags }, f.config ?? 'train flags');
      const seed = train.seed;
      const common = { root: f.dataRoot, builtinImageSize: f.builtinImageSize, seed, skipBad: f.skipBad, coarse: f.coarse };
      const trainOptions = { ...common, split: f.split ?? 'train', builtinSize: f.builtinSize };
      const dataset = openDataset(f.dataset, trainOptions);
      const valDataset = openDataset(f.dataset, { ...common, split: 'val' });
      const model = modelConfig({
        arch: f.arch ?? (f.genotype ? undefined : 'autodeeplab-s'), genotype: f.genotype ? loadGenotype(f.genotype) : undefined,
        filterMultiplier: f.filterMultiplier, numClasses: dataset.numClasses,
        bn: f.bnMomentum !== undefined ? { momentum: f.bnMomentum, eps: 1e-3 } : undefined, dropPathKeep: f.dropPathKeep,
      });
      const out = f.out ?? path.join('runs', `train-${timestamp()}`);
      const bar = progress('train', train.iterations);
      const r = await runTraining({
        model, train, dataset, valDataset, out, resume: f.resume, maxIterations: f.maxIterations, checkpointEvery: f.checkpointEvery,
        shouldStop: gracefulStop('train'),
        datasetSpec: f.skipBad ? undefined : { name: f.dataset, options: trainOptions },
        onIteration: (x) => bar.update(x.iteration, { loss: x.loss, lr: x.lr, 's/it': x.seconds }),
      });
      bar.stop();
      reportSkipped(dataset, valDataset);
      process.stdout.write(`train ${r.completed ? 'finished' : 'stopped'} after ${r.iterations} iterations; ` +
        `${r.completed ? `model: ${path.join(out, 'model.safetensors')}` : `resume with --resume --out ${out}`}` +
        `${r.lastEval ? `; validation mIoU ${(r.lastEval.mIoU as number).toFixed(4)}` : ''}\n`);
      r.model.weights.dispose();
    });
}


export function evalCommand(): Command {
  return new Command('eval')
    .description('mIoU, per-class IoU, pixel accuracy and confusion matrix on a split, single- or multi-scale (+ flip)')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train')
    .option('--dataset <name>', 'dataset: builtin, cityscapes, voc, ade20k, folder', 'builtin')
    .option('--data-root <dir>', 'dataset folder (on-disk datasets, official layouts; see README)')
    .option('--split <name>', 'split to evaluate', 'val')
    .option('--skip-bad', 'skip samples that fail to load (listed at the end) instead of stopping')
    .option('--builtin-size <n>', 'builtin: scenes in the split', int(1))
    .option('--builtin-image-size <px>', 'builtin: scene side in pixels', int(16))
    .option('--scales <list>', 'inference scales, e.g. 0.5,0.75,1,1.25,1.5,1.75', scaleList, [1])
    .option('--flip', 'also average horizontally flipped inputs')
    .option('--seed <n>', 'dataset seed (builtin)', int(0), 0)
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  $ autodeeplab eval --checkpoint runs/t1/model.safetensors --dataset builtin --split val
  $ autodeeplab eval --checkpoint runs/t1/model.safetensors --scales 0.5,0.75,1,1.25,1.5,1.75 --flip --json`)
    .action(async (o: { checkpoint: string; dataset: string; dataRoot?: string; split: string; builtinSize?: number; builtinImageSize?: number;
      scales: number[]; flip?: boolean; seed: number; json?: boolean; skipBad?: boolean }) => {
      if (!fs.existsSync(o.checkpoint)) throw new BadInputError(`--checkpoint: ${o.checkpoint} does not exist`);
      const { model, classNames } = loadModel(o.checkpoint);
      const ds = openDataset(o.dataset, { root: o.dataRoot, split: o.split, builtinSize: o.builtinSize, builtinImageSize: o.builtinImageSize, seed: o.seed, skipBad: o.skipBad });
      if (ds.numClasses !== model.cfg.numClasses) throw new Error(`eval: the model has ${model.cfg.numClasses} classes, dataset '${ds.name}' has ${ds.numClasses}`);
      const bar = progress('eval', ds.length);
      const r = await evaluateDataset((x) => model.forward(x, false), ds, { scales: o.scales, flip: !!o.flip }, (d) => bar.update(d));
      bar.stop();
      reportSkipped(ds);
      if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
      else {
        const rows = classNames.map((c) => `  ${c.padEnd(16)} ${r.perClassIoU[c] === null ? '   -' : (r.perClassIoU[c]! * 100).toFixed(2).padStart(6)}`);
        process.stdout.write(`${r.images} images, scales ${o.scales.join(',')}${o.flip ? ' + flip' : ''}\n  mIoU ${(r.mIoU * 100).toFixed(2)}  pixel accuracy ${(r.pixelAccuracy * 100).toFixed(2)}\n  IoU per class:\n${rows.join('\n')}\n`);
      }
      model.weights.dispose();
      T.memory();
    });
}
