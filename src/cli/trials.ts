/**
 * `autodeeplab trials --trials N --out DIR [search flags]`: N searches of the
 * same settings with seeds S .. S+N-1 (the paper's Fig. 4: 10 random trials),
 * each `autodeeplab search` in its own process writing DIR/trial-<seed>/. Run
 * it again to continue: a finished trial is skipped, an interrupted one
 * resumes from its checkpoint. `autodeeplab report DIR` draws the band of
 * validation mIoU over the epochs, the architectures and the choice counts.
 */
import { Command } from 'commander';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CHECKPOINT } from '../run/run_dir';
import { bandStats, readTrials, TRIAL_PREFIX } from '../report/trials';
import { BadInputError } from '../util/errors';
import { int } from './options';

interface TrialsFlags { trials: number; firstSeed: number; jobs: number; out: string }

/** Flags that trials sets itself for each search. */
const OWN = ['--seed', '--out', '--resume'];

/** A finished trial: every epoch of its configuration logged. */
function finished(dir: string, seed: number): boolean {
  const t = readTrials(dir).find((x) => x.seed === seed);
  return !!t && t.epochs > 0 && t.mIoU.length >= t.epochs;
}

/** Runs `autodeeplab search` for one seed; resolves with its exit code. */
function searchProcess(searchArgs: string[], out: string, seed: number, resume: boolean): Promise<number> {
  const args = [process.argv[1], 'search', ...searchArgs, '--seed', String(seed), '--out', out, ...(resume ? ['--resume'] : [])];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 130 : 1)));
  });
}

export function trialsCommand(): Command {
  return new Command('trials')
    .description('N searches with seeds S..S+N-1 into OUT/trial-<seed>/ (the paper\'s Fig. 4); resumable; other flags go to search')
    .requiredOption('--trials <n>', 'number of searches', int(1))
    .requiredOption('--out <dir>', 'folder of the trials')
    .option('--first-seed <n>', 'seed of the first trial', int(0), 0)
    .option('--jobs <n>', 'searches running at once (each with search\'s --threads)', int(1), 1)
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `
Every other flag is passed to each search, e.g.
  $ autodeeplab trials --trials 3 --out runs/fig4 --epochs 6 --arch-start-epoch 3 --layers 8 \\
      --filter-multiplier 4 --crop 64 --batch-size 4 --builtin-size 48 --builtin-image-size 96 --threads 2
  $ autodeeplab report runs/fig4        # band of validation mIoU, architectures, choice counts`)
    .action(async (f: TrialsFlags, command: Command) => {
      const searchArgs = command.args.filter((a) => a !== '--');
      const clash = searchArgs.find((a) => OWN.includes(a.split('=')[0]));
      if (clash) throw new BadInputError(`trials: ${clash.split('=')[0]} is set by trials for each search (seeds from --first-seed, folders OUT/${TRIAL_PREFIX}<seed>)`);
      if (fs.existsSync(f.out) && !fs.statSync(f.out).isDirectory()) throw new BadInputError(`--out: ${f.out} is a file, expected a folder`);
      fs.mkdirSync(f.out, { recursive: true });
      const seeds = Array.from({ length: f.trials }, (_, i) => f.firstSeed + i);
      const failed: number[] = [];
      const queue = [...seeds];
      const worker = async () => {
        for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
          const dir = path.join(f.out, `${TRIAL_PREFIX}${seed}`);
          if (finished(f.out, seed)) {
            process.stderr.write(`trials: seed ${seed} finished earlier (${dir}), skipped\n`);
            continue;
          }
          const resume = fs.existsSync(path.join(dir, CHECKPOINT));
          process.stderr.write(`trials: seed ${seed}${resume ? ' (resuming)' : ''} -> ${dir}\n`);
          const code = await searchProcess(searchArgs, dir, seed, resume);
          if (code === 2) throw new BadInputError(`trials: search exited 2 for seed ${seed} (bad input; see its message above)`);
          if (code !== 0 || !finished(f.out, seed)) failed.push(seed); // stopped early (Ctrl-C, --max-iterations): resumable
        }
      };
      await Promise.all(Array.from({ length: Math.min(f.jobs, seeds.length) }, worker));
      const band = bandStats(readTrials(f.out).filter((t) => seeds.includes(t.seed)).map((t) => t.mIoU));
      const last = band[band.length - 1];
      process.stdout.write(`trials: ${seeds.length - failed.length}/${seeds.length} searches finished in ${f.out}` +
        (last ? `; validation mIoU at epoch ${last.epoch}: median ${(100 * last.median).toFixed(2)}, min ${(100 * last.min).toFixed(2)}, max ${(100 * last.max).toFixed(2)}` : '') +
        `\n  report: autodeeplab report ${f.out}\n`);
      if (failed.length) {
        process.stderr.write(`trials: seeds ${failed.join(', ')} did not finish; run the same command again to resume them\n`);
        process.exitCode = 1;
      }
    });
}
