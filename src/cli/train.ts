/** `autodeeplab train` and `autodeeplab eval`: retrain a decoded architecture, then measure it. */
import { Command } from 'commander';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as T from '../engine';
import { datasetBaseResize, openDataset, reportSkipped } from '../data/registry';
import { preflightDataset } from '../data/preflight';
import { evaluateDataset } from '../eval/evaluate';
import { modelConfig } from '../model/presets';
import { loadModel } from '../model/saved';
import { PAPER_DROP_PATH_KEEP, resolveTrainConfig } from '../train/train_config';
import { runTraining } from '../train/trainer';
import { BadInputError } from '../util/errors';
import { readGenotypeFile } from '../arch/genotype_file';
import { useDevice } from '../run/device';
import { joinJob, launchSelf, leaveJob, quietStop } from '../run/ddp';
import { PROCESS_BYTES } from '../run/launch';
import { addDatasetOptions, addInferenceOptions, addRunOptions, configLayers, DatasetFlags, datasetOptions, nprocOption, RunFlags } from './option_groups';
import { gracefulStop, int, num, numIn, timestamp } from './options';
import { progress } from './progress';
import { percent } from '../util/format';

interface TrainFlags extends DatasetFlags, RunFlags {
  arch?: string; genotype?: string; filterMultiplier?: number; bnMomentum?: number; dropPathKeep?: number; paperDropPath?: boolean; nproc?: number;
}

/** Flags that set the training configuration of the same name (src/train/train_config.ts). */
const CONFIG_FLAGS = ['crop', 'batchSize', 'iterations', 'lr', 'seed', 'threads', 'evalEvery', 'baseScale', 'baseLongerSide'] as const;

/** The model's drop-path keep probability from --drop-path-keep or --paper-drop-path (not both); undefined: off. */
export function dropPathKeepOf(f: { dropPathKeep?: number; paperDropPath?: boolean }): number | undefined {
  if (f.paperDropPath && f.dropPathKeep !== undefined) throw new BadInputError('--paper-drop-path sets the keep probability; give it or --drop-path-keep, not both');
  return f.paperDropPath ? PAPER_DROP_PATH_KEEP : f.dropPathKeep;
}

export function trainCommand(): Command {
  const cmd = new Command('train')
    .description('retrain a decoded architecture (Sec. 5.2): poly LR, random scale/crop/flip; scheduled drop path with --paper-drop-path')
    .option('--arch <name>', 'preset: autodeeplab-s, autodeeplab-m, autodeeplab-l (default when no --genotype)')
    .option('--genotype <file>', 'genotype JSON written by search (built exactly)')
    .option('--filter-multiplier <n>', 'F for a genotype (default 20, Auto-DeepLab-S)', int(1))
    .option('--config <file>', 'JSON file of training settings (flags typed on the command line override it)');
  addDatasetOptions(cmd, { split: 'train', builtinSize: 8 })
    .option('--crop <px>', 'square training crop (paper: 769 on Cityscapes)', int(16))
    .option('--base-scale <x>', 'resize images by x before augmentation (default 1)', num(0))
    .option('--base-longer-side <px>', 'first resize images so that the longer side is px, 0: off (default: ade20k 513 as the paper, others 0)', int(0))
    .option('--batch-size <n>', 'images per step', int(2))
    .option('--iterations <n>', 'iterations of the LR schedule (paper: 1.5M)', int(1))
    .option('--lr <x>', 'initial learning rate (paper: 0.05)', num(0))
    .option('--bn-momentum <x>', 'BN running-statistics momentum in [0, 1], PyTorch convention (released: 0.0003)', numIn(0, 1))
    .option('--drop-path-keep <p>', 'scheduled drop path: keep probability in (0, 1] of the last cell at the end (default 1: off)', numIn(0, 1, true))
    .option('--paper-drop-path', `scheduled drop path, as the paper's best numbers use (Table 3): keep ${PAPER_DROP_PATH_KEEP} (the paper gives none; NASNet's), ramped over the iterations`)
    .option('--eval-every <n>', 'validate every N iterations', int(0));
  return addRunOptions(cmd, { label: 'train' }).addOption(nprocOption())
    .addHelpText('after', `
Examples:
  $ autodeeplab train --genotype runs/s1/genotype.json --filter-multiplier 8 --crop 64 --iterations 300 --out runs/t1
  $ autodeeplab train --arch autodeeplab-s --dataset builtin --iterations 1000
  $ autodeeplab train --arch autodeeplab-s --dataset cityscapes --data-root data/cityscapes --paper-drop-path   # the paper's setting
  $ autodeeplab train --out runs/t1 --resume ...same flags...
  $ autodeeplab train --nproc 2 --threads 4 --batch-size 4 ...   # 2 data-parallel processes, global batch 8
  $ RANK=1 WORLD_SIZE=4 MASTER_ADDR=host0 MASTER_PORT=29500 autodeeplab train ...   # one rank of a multi-machine job (README: Distributed)

The paper's best numbers (Table 3, 79.74% on Cityscapes val) use scheduled drop path: --paper-drop-path.
Writes config.json, metrics.jsonl, checkpoint.safetensors and, at the end, model.safetensors.`)
    .action(async (f: TrainFlags, command: Command) => {
      const device = useDevice(f.device);
      const base = datasetBaseResize(f.dataset, 'train');
      const train = resolveTrainConfig(configLayers(command, CONFIG_FLAGS, { threads: os.availableParallelism(), baseScale: base.scale, baseLongerSide: base.longerSide }));
      const dropPathKeep = dropPathKeepOf(f);
      if (f.nproc !== undefined && f.nproc > 1) {
        // At least a bare process and its batch (float32 RGB + int64 labels, 20 bytes a pixel), as checkTrainFits' first bound.
        process.exitCode = await launchSelf(f.nproc, train.threads, { bytes: PROCESS_BYTES + train.batchSize * train.crop ** 2 * 20, what: 'a process and its batch' });
        return;
      }
      const parallel = (await joinJob(device)) ?? undefined; // a rank of --nproc, torchrun or Slurm: only rank 0 writes and prints
      const main = !parallel || parallel.rank === 0;
      try {
        const trainOptions = datasetOptions(f, train.seed);
        const dataset = openDataset(f.dataset, trainOptions);
        const valDataset = openDataset(f.dataset, datasetOptions({ ...f, builtinSize: undefined }, train.seed, 'val'));
        await preflightDataset(dataset, `${f.dataset} ${trainOptions.split} split`);
        await preflightDataset(valDataset, `${f.dataset} val split`);
        const model = modelConfig({
          arch: f.arch ?? (f.genotype ? undefined : 'autodeeplab-s'), genotype: f.genotype ? readGenotypeFile(f.genotype).genotype : undefined,
          filterMultiplier: f.filterMultiplier, numClasses: dataset.numClasses,
          bn: f.bnMomentum !== undefined ? { momentum: f.bnMomentum, eps: 1e-3 } : undefined, dropPathKeep,
        });
        const out = f.out ?? path.join('runs', `train-${timestamp()}`);
        const bar = main ? progress('train', train.iterations) : null;
        const r = await runTraining({
          model, train, dataset, valDataset, out, resume: f.resume, maxIterations: f.maxIterations, checkpointEvery: f.checkpointEvery,
          shouldStop: main ? gracefulStop('train') : quietStop(), parallel,
          datasetSpec: f.skipBad ? undefined : { name: f.dataset, options: trainOptions },
          onIteration: bar ? (x) => bar.update(x.iteration, { loss: x.loss, lr: x.lr, 's/it': x.seconds }) : undefined,
        }).finally(() => bar?.stop());
        if (main) reportSkipped(dataset, valDataset);
        if (main) process.stdout.write(`train ${r.completed ? 'finished' : 'stopped'} after ${r.iterations} iterations; ` +
          `${r.completed ? `model: ${path.join(out, 'model.safetensors')}` : `resume with --resume --out ${out}`}` +
          `${r.lastEval ? `; validation mIoU ${percent(r.lastEval.mIoU as number)}` : ''}\n`);
        r.model.weights.dispose();
      } finally {
        leaveJob();
      }
    });
}

interface EvalFlags extends DatasetFlags {
  checkpoint: string; scales: number[]; flip?: boolean; json?: boolean; threads?: number; device: string; nproc?: number;
}

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .description('mIoU, per-class IoU, pixel accuracy and confusion matrix on a split, single- or multi-scale (+ flip)')
    .requiredOption('--checkpoint <file>', 'model.safetensors or checkpoint.safetensors from train');
  addInferenceOptions(addDatasetOptions(cmd, { split: 'val', builtinSize: 1, seed: 'dataset seed (builtin scenes)' }))
    .option('--json', 'print JSON (mIoU, pixelAccuracy and perClassIoU as fractions in [0, 1], not percent)');
  return addRunOptions(cmd, { label: 'eval', only: ['threads', 'device'] }).addOption(nprocOption('each predicts every N-th image'))
    .addHelpText('after', `
Examples:
  $ autodeeplab eval --checkpoint runs/t1/model.safetensors --dataset builtin --split val
  $ autodeeplab eval --checkpoint runs/t1/model.safetensors --scales 0.5,0.75,1,1.25,1.5,1.75 --flip --json
  $ autodeeplab eval --checkpoint runs/t1/model.safetensors --nproc 2   # the images shared by 2 processes, same numbers`)
    .action(async (o: EvalFlags) => {
      const dsOptions = datasetOptions(o, o.seed ?? 0);
      if (!fs.existsSync(o.checkpoint)) throw new BadInputError(`--checkpoint: ${o.checkpoint} does not exist`);
      if (o.nproc !== undefined && o.nproc > 1) {
        process.exitCode = await launchSelf(o.nproc, o.threads ?? os.availableParallelism());
        return;
      }
      T.setNumThreads(o.threads ?? os.availableParallelism());
      const parallel = (await joinJob(useDevice(o.device))) ?? undefined; // each rank predicts images rank, rank + N, ...
      const main = !parallel || parallel.rank === 0;
      const { model, classNames } = loadModel(o.checkpoint);
      try {
        const ds = openDataset(o.dataset, dsOptions);
        await preflightDataset(ds, `${o.dataset} ${dsOptions.split} split`);
        if (ds.numClasses !== model.cfg.numClasses) {
          throw new BadInputError(`eval: the model (${o.checkpoint}) has ${model.cfg.numClasses} classes, dataset '${ds.name}' has ${ds.numClasses}`);
        }
        const bar = main ? progress('eval', Math.ceil(ds.length / (parallel?.worldSize ?? 1))) : null;
        const r = await evaluateDataset((x) => model.forward(x, false), ds, { scales: o.scales, flip: !!o.flip }, (d) => bar?.update(d), Infinity, parallel)
          .finally(() => bar?.stop());
        if (!main) return;
        reportSkipped(ds);
        if (o.json) process.stdout.write(JSON.stringify(r, null, 2) + '\n');
        else {
          const rows = classNames.map((c) => `  ${c.padEnd(16)} ${(r.perClassIoU[c] === null ? '-' : percent(r.perClassIoU[c]!)).padStart(7)}`);
          process.stdout.write(`${r.images} images, scales ${o.scales.join(',')}${o.flip ? ' + flip' : ''}\n  mIoU ${percent(r.mIoU)}  pixel accuracy ${percent(r.pixelAccuracy)}\n  IoU per class:\n${rows.join('\n')}\n`);
        }
      } finally {
        model.weights.dispose();
        leaveJob();
      }
    });
}
