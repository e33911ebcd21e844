/**
 * `autodeeplab quickstart`: the main job on the built-in scenes, sized for a
 * laptop CPU (minutes on 2 cores): architecture search, decoding, retraining
 * exactly the decoded genotype, and evaluation on held-out scenes.
 */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataset } from '../data/registry';
import { resolveSearchConfig } from '../search/config';
import { runSearch } from '../search/search';
import { int } from './options';
import { addRunOptions } from './option_groups';
import { useDevice } from '../run/device';
import { progress } from './progress';
import { evaluateDataset } from '../eval/evaluate';
import { modelConfig } from '../model/presets';
import { cellOfLayer } from '../arch/genotype';
import { resolveTrainConfig } from '../train/config';
import { runTraining } from '../train/trainer';

export function quickstartCommand(): Command {
  const cmd = new Command('quickstart')
    .description('search, decode, retrain and evaluate on the built-in scenes, in a few minutes')
    .option('--seed <n>', 'random seed', int(0), 0);
  return addRunOptions(cmd, { label: 'quickstart', out: path.join('runs', 'quickstart'), only: ['out', 'threads', 'device'] })
    .addHelpText('after', '\nExample:\n  $ autodeeplab quickstart --out runs/qs')
    .action(async (o: { out: string; threads?: number; seed: number; device: string }) => {
      useDevice(o.device);
      const threads = o.threads ?? os.availableParallelism();
      const builtin = (split: string, size: number) => ({ name: 'builtin', options: { split, builtinSize: size, builtinImageSize: 96, seed: o.seed } });
      const searchSpec = builtin('train', 48);
      const dataset = openDataset(searchSpec.name, searchSpec.options);
      const config = resolveSearchConfig({
        layers: 8, blocks: 5, filterMultiplier: 4, crop: 64, batchSize: 4, epochs: 6, archStartEpoch: 3,
        numClasses: dataset.numClasses, threads, seed: o.seed,
      }, 'quickstart');
      const searchDir = path.join(o.out, 'search');
      process.stderr.write(`quickstart: searching (L=${config.layers}, B=${config.blocks}, F=${config.filterMultiplier}, crop ${config.crop}, ` +
        `${config.epochs} epochs, architecture steps from epoch ${config.archStartEpoch + 1}) -> ${searchDir}\n`);
      const bar = progress('search', config.epochs * Math.floor(Math.ceil(dataset.length / 2) / config.batchSize));
      const result = await runSearch({
        config, dataset, out: searchDir, datasetSpec: searchSpec,
        onIteration: (r) => bar.update(r.iteration, { epoch: `${r.epoch + 1}/${config.epochs}`, phase: r.phase, loss: r.loss, 's/it': r.seconds }),
      });
      bar.stop();
      const g = result.genotype;
      const ops = cellOfLayer(g, 0).blocks.map( // one alpha in this search: one cell for every layer
       (b, i) => `  block${i} = ${b[0].op}(${b[0].input}) + ${b[1].op}(${b[1].input})`).join('\n');
      process.stdout.write(`quickstart: decoded architecture (${path.join(searchDir, 'genotype.json')}):\n${ops}\n` +
        `  path (output stride per layer): ${g.path.map((k) => 4 * 2 ** k).join(' ')}\n`);

      // Retrain exactly the decoded genotype (short schedule: BN statistics must move faster than the paper's 0.0003).
      const trainDir = path.join(o.out, 'train');
      const trainSpec = builtin('train', 96);
      const trainSet = openDataset(trainSpec.name, trainSpec.options);
      const valSet = openDataset('builtin', { split: 'val', builtinSize: 24, builtinImageSize: 96, seed: o.seed });
      const train = resolveTrainConfig({ iterations: 300, batchSize: 8, crop: 64, scale: [0.75, 1.25], threads, seed: o.seed }, 'quickstart');
      process.stderr.write(`quickstart: retraining the decoded network (F=8, ${train.iterations} iterations, crop ${train.crop}) -> ${trainDir}\n`);
      const tbar = progress('train', train.iterations);
      const trained = await runTraining({
        model: modelConfig({ genotype: g, filterMultiplier: 8, numClasses: trainSet.numClasses, bn: { momentum: 0.1, eps: 1e-3 } }),
        train, dataset: trainSet, out: trainDir, datasetSpec: trainSpec,
        onIteration: (x) => tbar.update(x.iteration, { loss: x.loss, 's/it': x.seconds }),
      });
      tbar.stop();
      const ebar = progress('eval', valSet.length);
      const r = await evaluateDataset((x) => trained.model.forward(x, false), valSet, { scales: [1], flip: false }, (d) => ebar.update(d));
      ebar.stop();
      const perClass = Object.entries(r.perClassIoU).map(([c, v]) => `${c} ${v === null ? '-' : (100 * v).toFixed(1)}`).join(', ');
      process.stdout.write(`quickstart: held-out scenes: mIoU ${(100 * r.mIoU).toFixed(2)}, pixel accuracy ${(100 * r.pixelAccuracy).toFixed(2)}\n` +
        `  IoU per class: ${perClass}\n  model: ${path.join(trainDir, 'model.safetensors')} ` +
        `(autodeeplab eval --checkpoint ${path.join(trainDir, 'model.safetensors')} --builtin-size 24 --builtin-image-size 96)\n`);
      trained.model.weights.dispose();
    });
}
