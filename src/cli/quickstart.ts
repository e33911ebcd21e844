/**
 * `autodeeplab quickstart`: the main job on the built-in scenes, sized for a
 * laptop CPU (minutes on 2 cores): architecture search, then the decoded
 * genotype. Retraining and evaluation of the decoded network join as they land.
 */
import { Command } from 'commander';
import * as os from 'node:os';
import * as path from 'node:path';
import { BuiltinScenes } from '../data/builtin';
import { resolveSearchConfig } from '../search/config';
import { runSearch } from '../search/search';
import { int } from './options';
import { progress } from './progress';

export function quickstartCommand(): Command {
  return new Command('quickstart')
    .description('search on the built-in scenes in a few minutes and print the decoded architecture')
    .option('--out <dir>', 'run directory', path.join('runs', 'quickstart'))
    .option('--threads <n>', 'libtorch threads', int(1), os.availableParallelism())
    .option('--seed <n>', 'random seed', int(0), 0)
    .addHelpText('after', '\nExample:\n  $ autodeeplab quickstart --out runs/qs')
    .action((o: { out: string; threads: number; seed: number }) => {
      const dataset = new BuiltinScenes({ size: 48, imageSize: 96, seed: o.seed });
      const config = resolveSearchConfig({
        layers: 8, blocks: 5, filterMultiplier: 4, crop: 64, batchSize: 4, epochs: 6, archStartEpoch: 3,
        numClasses: dataset.numClasses, threads: o.threads, seed: o.seed,
      }, 'quickstart');
      const searchDir = path.join(o.out, 'search');
      process.stderr.write(`quickstart: searching (L=${config.layers}, B=${config.blocks}, F=${config.filterMultiplier}, crop ${config.crop}, ` +
        `${config.epochs} epochs, architecture steps from epoch ${config.archStartEpoch + 1}) -> ${searchDir}\n`);
      const bar = progress('search', config.epochs * Math.floor(Math.ceil(dataset.length / 2) / config.batchSize));
      const result = runSearch({
        config, dataset, out: searchDir,
        onIteration: (r) => bar.update(r.iteration, { epoch: `${r.epoch + 1}/${config.epochs}`, phase: r.phase, loss: r.loss, 's/it': r.seconds }),
      });
      bar.stop();
      const g = result.genotype;
      const ops = g.cell.blocks.map((b, i) => `  block${i} = ${b[0].op}(${b[0].input}) + ${b[1].op}(${b[1].input})`).join('\n');
      process.stdout.write(`quickstart: decoded architecture (${path.join(searchDir, 'genotype.json')}):\n${ops}\n` +
        `  path (output stride per layer): ${g.path.map((k) => 4 * 2 ** k).join(' ')}\n`);
    });
}
