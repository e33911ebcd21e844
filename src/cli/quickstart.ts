/**
 * `autodeeplab quickstart`: the main job on the built-in scenes, sized for a
 * laptop CPU (a time goal of under 4 minutes on 2 cores): architecture
 * search, decoding, retraining exactly the decoded genotype, evaluation on
 * held-out scenes, and the same retraining of an architecture drawn uniformly
 * among those of equal cost (Multi-Adds within 5% of the searched one's), so
 * that the run shows what the search bought beyond buying cost (issue 20).
 * One seed and one random network: an indication, not a test (compare --seeds).
 */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { openDataset } from '../data/registry';
import { resolveSearchConfig } from '../search/search_config';
import { runSearch } from '../search/run_search';
import { int, numIn } from './options';
import { addRunOptions } from './option_groups';
import { useDevice } from '../run/device';
import { progress } from './progress';
import { modelConfig } from '../model/presets';
import { resolveTrainConfig } from '../train/train_config';
import { formatComparison, RandomMode, runComparison } from '../train/baseline';
import { randomMode } from './compare';
import { cellOfLayer, Genotype } from '../arch/genotype';
import { percent } from '../util/format';

/** The quickstart's budget, in one place (docs/quickstart.md quotes it). */
export const QUICKSTART = Object.freeze({
  /** Scene side in pixels and scenes per split (search uses the first `searchScenes` of the training scenes' seed). */
  imageSize: 64, searchScenes: 48, trainScenes: 192, valScenes: 24,
  search: { layers: 8, blocks: 5, filterMultiplier: 4, crop: 64, batchSize: 4, epochs: 6, archStartEpoch: 3 },
  /** Retraining: short poly schedule; BN statistics must move faster than the paper's 0.0003. */
  train: { filterMultiplier: 8, iterations: 600, batchSize: 8, crop: 64, lr: 0.05, scale: [0.75, 1.25] as [number, number], bnMomentum: 0.1 },
  /** Random architectures retrained with the same schedule and seed (searched vs random), drawn within this cost band. */
  randomBaseline: 1, randomMode: 'equal-cost' as RandomMode, costBand: 0.05,
});

function describe(g: Genotype): string {
  // One alpha in this search: one cell for every layer.
  return cellOfLayer(g, 0).blocks.map((b, i) => `  block${i} = ${b[0].op}(${b[0].input}) + ${b[1].op}(${b[1].input})`).join('\n') +
    `\n  path (output stride per layer): ${g.path.map((k) => 4 * 2 ** k).join(' ')}`;
}

export function quickstartCommand(): Command {
  const cmd = new Command('quickstart')
    .description('search, decode, retrain and evaluate on the built-in scenes, then retrain random architectures the same way (a few minutes)')
    .option('--seed <n>', 'random seed', int(0), 0)
    .option('--random-baseline <k>', 'random architectures retrained for comparison (0: none)', int(0), QUICKSTART.randomBaseline)
    .option('--random-baseline-mode <mode>', 'equal-cost (within --cost-band of the searched network\'s Multi-Adds) or uniform', randomMode, QUICKSTART.randomMode)
    .option('--cost-band <x>', 'relative half-width of the equal-cost band', numIn(0, 1, true), QUICKSTART.costBand);
  return addRunOptions(cmd, { label: 'quickstart', out: path.join('runs', 'quickstart'), only: ['out', 'threads', 'device'] })
    .addHelpText('after', '\nExample:\n  $ autodeeplab quickstart --out runs/qs')
    .action(async (o: { out: string; threads?: number; seed: number; device: string; randomBaseline: number; randomBaselineMode: RandomMode; costBand: number }) => {
      useDevice(o.device);
      const started = Date.now();
      const phases: string[] = [];
      const lap = (what: string, since: number) => phases.push(`${what} ${((Date.now() - since) / 1000).toFixed(0)} s`);
      const q = QUICKSTART;
      const threads = o.threads ?? os.availableParallelism();
      const builtin = (split: string, size: number) => ({ name: 'builtin', options: { split, builtinSize: size, builtinImageSize: q.imageSize, seed: o.seed } });
      const searchSpec = builtin('train', q.searchScenes);
      const dataset = openDataset(searchSpec.name, searchSpec.options);
      const config = resolveSearchConfig({ ...q.search, numClasses: dataset.numClasses, threads, seed: o.seed }, 'quickstart');
      const searchDir = path.join(o.out, 'search');
      process.stderr.write(`quickstart: searching (L=${config.layers}, B=${config.blocks}, F=${config.filterMultiplier}, crop ${config.crop}, ` +
        `${config.epochs} epochs, architecture steps from epoch ${config.archStartEpoch + 1}) -> ${searchDir}\n`);
      const bar = progress('search', config.epochs * Math.floor(Math.ceil(dataset.length / 2) / config.batchSize));
      const result = await runSearch({
        config, dataset, out: searchDir, datasetSpec: searchSpec,
        onIteration: (r) => bar.update(r.iteration, { epoch: `${r.epoch + 1}/${config.epochs}`, phase: r.phase, loss: r.loss, 's/it': r.seconds }),
      });
      bar.stop();
      lap('search', started);
      const g = result.genotype;
      process.stdout.write(`quickstart: decoded architecture (${path.join(searchDir, 'genotype.json')}):\n${describe(g)}\n`);

      // Retrain exactly the decoded genotype, then K random ones with the same settings and seed.
      const t = q.train;
      const trainSpec = builtin('train', q.trainScenes);
      const trainSet = openDataset(trainSpec.name, trainSpec.options);
      const valSet = openDataset('builtin', builtin('val', q.valScenes).options);
      const train = resolveTrainConfig({ iterations: t.iterations, batchSize: t.batchSize, crop: t.crop, lr: t.lr, scale: t.scale, threads, seed: o.seed }, 'quickstart');
      const trainDir = path.join(o.out, 'train');
      const compareDir = path.join(o.out, 'compare');
      let tbar: ReturnType<typeof progress> | null = null;
      let phaseStart = Date.now();
      const c = await runComparison({
        searched: g, randomCount: o.randomBaseline, randomMode: o.randomBaselineMode, costBand: o.costBand, train, dataset: trainSet, datasetSpec: trainSpec, valDataset: valSet, out: compareDir, searchedDir: trainDir,
        modelOf: (genotype) => modelConfig({ genotype, filterMultiplier: t.filterMultiplier, numClasses: trainSet.numClasses, bn: { momentum: t.bnMomentum, eps: 1e-3 } }),
        onStart: (name, i, total) => {
          tbar?.stop();
          if (i > 0) lap(i === 1 ? 'searched' : `random-${i - 1}`, phaseStart); // the previous architecture's retraining and evaluation
          phaseStart = Date.now();
          process.stderr.write(`quickstart: retraining the ${i === 0 ? 'decoded network' : `random architecture ${name}`} (${i + 1}/${total}; F=${t.filterMultiplier}, ` +
            `${train.iterations} iterations, crop ${train.crop}) -> ${i === 0 ? trainDir : path.join(compareDir, name)}\n`);
          tbar = progress('train', train.iterations);
          return (x) => tbar!.update(x.iteration, { loss: x.loss, 's/it': x.seconds });
        },
      });
      (tbar as ReturnType<typeof progress> | null)?.stop();
      lap(c.entries.length > 1 ? `random-${c.entries.length - 1}` : 'searched', phaseStart);
      const r = c.entries[0];
      const perClass = Object.entries(r.perClassIoU).map(([k, v]) => `${k} ${v === null ? '-' : (100 * v).toFixed(1)}`).join(', ');
      const model = path.join(trainDir, 'model.safetensors');
      process.stdout.write(`quickstart: held-out scenes: mIoU ${percent(r.mIoU)}, pixel accuracy ${percent(r.pixelAccuracy)}, ${(r.multiAdds / 1e9).toFixed(3)} B Multi-Adds at ${t.crop}x${t.crop}\n` +
        `  IoU per class: ${perClass}\n  model: ${model} ` +
        `(autodeeplab eval --checkpoint ${model} --seed ${o.seed} --builtin-size ${q.valScenes} --builtin-image-size ${q.imageSize})\n`);
      if (c.entries.length > 1) process.stdout.write(`quickstart: ${formatComparison(c)}  plot: autodeeplab report ${compareDir}\n`);
      process.stdout.write(`quickstart: ${((Date.now() - started) / 1000).toFixed(0)} s in all (${phases.join(', ')}; each retraining includes its evaluation)\n`);
    });
}
