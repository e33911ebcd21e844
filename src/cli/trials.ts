/**
 * `autodeeplab trials --trials N --out DIR [search flags]`: N searches of the
 * same settings with seeds S .. S+N-1 (the paper's Fig. 4: 10 random trials),
 * each `autodeeplab search` in its own process writing DIR/trial-<seed>/. Run
 * it again to continue: a finished trial is skipped, an interrupted one
 * resumes from its checkpoint. `autodeeplab report DIR` draws the band of
 * validation mIoU over the epochs, the architectures and the choice counts.
 *
 * A sweep over cost budgets (--budgets 230,260) runs the trials under each
 * budget into DIR/budget-<B>/trial-<seed>/; --retrain-iterations retrains
 * each decoded genotype into its trial's retrain/ (src/trials/runner.ts). The report
 * then plots mIoU against the exact cost (report/tradeoff.ts).
 */
import { Command, InvalidArgumentError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkOutputPath, writeFileAtomic } from '../util/files';
import { BUDGET_MAX } from './budget_options';
import { validateLatencyTable } from '../budget/latency_table';
import { CHECKPOINT } from '../run/run_dir';
import { bandStats, readTrials, TRIAL_PREFIX } from '../report/trials_report';
import { BUDGET_PREFIX, LATENCY_COPY, readGroups, tradeoffPoint } from '../report/tradeoff';
import { BadInputError } from '../util/errors';
import { readJsonFile } from '../util/json';
import { int } from './options';
import { Children, flagName, flagValue, OWN_TRAIN, runTrialRetrain, runTrialSearch, splitArgs } from '../trials/runner';
import { percent } from '../util/format';

interface TrialsFlags { trials: number; firstSeed: number; jobs: number; out: string; budgets?: number[]; retrainIterations: number; retrainArgs: string }

/** Flags that trials sets itself for each search. */
const OWN = ['--seed', '--out', '--resume'];

/** One search: a seed, under one of the budgets (undefined: the search flags' own budget, if any). */
interface Job { seed: number; budget?: number }

/** A finished trial: every epoch of its configuration logged. */
function finished(dir: string, seed: number): boolean {
  const t = readTrials(dir).find((x) => x.seed === seed);
  return !!t && t.epochs > 0 && t.mIoU.length >= t.epochs;
}

/**
 * The flags of a sweep over budgets checked, and the flag each budget is given
 * with (--budget in billions, or --budget-ms with a latency table): every
 * budget in that flag's range, before any search starts.
 */
function budgetFlag(searchArgs: string[], budgets: number[]): keyof typeof BUDGET_MAX {
  const own = searchArgs.find((a) => ['--budget', '--budget-ms'].includes(flagName(a)));
  if (own) throw new BadInputError(`trials: ${flagName(own)} is set by --budgets for each search (give the budgets there)`);
  const flag = flagValue(searchArgs, '--latency-table') !== undefined ? '--budget-ms' : '--budget';
  const over = budgets.find((b) => b > BUDGET_MAX[flag]);
  if (over !== undefined) throw new BadInputError(`--budgets: ${over} is out of range (each budget is given to search as ${flag}, which takes a number in (0, ${BUDGET_MAX[flag]}])`);
  return flag;
}

/**
 * Keeps the sweep's latency table in OUT for the report, checked first; one
 * whose bytes differ from the table the searches in OUT ran with is refused
 * (the report would describe it instead; a resumed search compares the same
 * bytes, by their SHA-256).
 */
function keepLatencyTable(table: string, out: string): void {
  validateLatencyTable(readJsonFile(table, '--latency-table'), `--latency-table: ${table}`);
  const bytes = fs.readFileSync(table);
  const copy = path.join(out, LATENCY_COPY);
  const searched = fs.existsSync(copy) && readGroups(out).some((g) => g.trials.length > 0);
  if (searched && !fs.readFileSync(copy).equals(bytes)) {
    throw new BadInputError(`--latency-table: ${table} differs from ${copy}, the table the sweep in ${out} was searched with (give that table, or another --out)`);
  }
  fs.mkdirSync(out, { recursive: true });
  writeFileAtomic(copy, bytes);
}

/** Removes a folder if it exists and is empty. */
/** --budgets 230,260: distinct positive numbers separated by commas. */
function budgetList(v: string): number[] {
  const xs = v.split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (!xs.length || xs.some((x) => !(x > 0 && Number.isFinite(x))) || new Set(xs).size !== xs.length) {
    throw new InvalidArgumentError(`expected distinct positive numbers separated by commas, e.g. 230,260, got '${v}'`);
  }
  return xs;
}

function removeIfEmpty(dir: string): void {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
}

export function trialsCommand(): Command {
  return new Command('trials')
    .description('N searches with seeds S..S+N-1 into OUT/trial-<seed>/ (the paper\'s Fig. 4), or per budget into OUT/budget-<B>/trial-<seed>/; resumable; other flags go to search')
    .requiredOption('--trials <n>', 'number of searches (per budget)', int(1))
    .requiredOption('--out <dir>', 'folder of the trials')
    .option('--first-seed <n>', 'seed of the first trial', int(0), 0)
    .option('--jobs <n>', 'searches running at once (each with search\'s --threads)', int(1), 1)
    .option('--budgets <list>', 'a sweep: the trials under each budget, e.g. 230,260 (billions of Multi-Adds as --budget; ms as --budget-ms when a --latency-table is given)', budgetList)
    .option('--retrain-iterations <n>', 'retrain each decoded genotype for n iterations into its trial\'s retrain/ (0: off)', int(0), 0)
    .option('--retrain-args <flags>', 'more flags of autodeeplab train for the retraining, in one quoted string', '')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', `
Every other flag is passed to each search, e.g.
  $ autodeeplab trials --trials 3 --out runs/fig4 --epochs 6 --arch-start-epoch 3 --layers 8 \\
      --filter-multiplier 4 --crop 64 --batch-size 4 --builtin-size 48 --builtin-image-size 96 --threads 2
  $ autodeeplab report runs/fig4        # band of validation mIoU, architectures, choice counts, cost / mIoU
  $ autodeeplab trials --trials 2 --budgets 230,260 --retrain-iterations 200 --out runs/sweep --layers 4 ...
  $ autodeeplab report runs/sweep       # mIoU against the exact Multi-Adds, budgets and S / M / L marked

The retraining (autodeeplab train) takes the search's data and machine flags (--dataset, --data-root,
--split, --builtin-size, --builtin-image-size, --crop, --batch-size, --threads, --device, ...), the trial's
seed and, so that the retrained network is the one whose cost is plotted, the budget's F (default 20);
--retrain-args adds or overrides flags, e.g. --retrain-args '--filter-multiplier 4 --lr 0.02'.
Run the same command again to continue: finished searches and retrainings are skipped.`)
    .action(async (f: TrialsFlags, command: Command) => {
      const searchArgs = command.args.filter((a) => a !== '--');
      const clash = searchArgs.find((a) => OWN.includes(flagName(a)));
      if (clash) throw new BadInputError(`trials: ${flagName(clash)} is set by trials for each search (seeds from --first-seed, folders OUT/${TRIAL_PREFIX}<seed>)`);
      const retrainArgs = splitArgs(f.retrainArgs);
      const own = retrainArgs.find((a) => OWN_TRAIN.includes(flagName(a)));
      if (own) throw new BadInputError(`--retrain-args: ${flagName(own)} is set by trials for each retraining (--retrain-iterations, the trial's genotype, seed and folder)`);
      if (retrainArgs.length && !f.retrainIterations) throw new BadInputError('--retrain-args: only meaningful with --retrain-iterations N');
      const flag = f.budgets ? budgetFlag(searchArgs, f.budgets) : '';
      checkOutputPath('--out', f.out, 'dir');
      const created = !fs.existsSync(f.out); // removed again if nothing was written to it
      const table = flagValue(searchArgs, '--latency-table');
      if (table !== undefined) keepLatencyTable(table, f.out);
      fs.mkdirSync(f.out, { recursive: true });
      const seeds = Array.from({ length: f.trials }, (_, i) => f.firstSeed + i);
      // Cheapest budget first: one below the cheapest network is refused (exit 2) before hours of searches under the others.
      const budgets = f.budgets && [...f.budgets].sort((a, b) => a - b);
      const jobs: Job[] = budgets ? budgets.flatMap((budget) => seeds.map((seed) => ({ seed, budget }))) : seeds.map((seed) => ({ seed }));
      const groupOf = (j: Job) => (j.budget === undefined ? f.out : path.join(f.out, `${BUDGET_PREFIX}${j.budget}`));
      const failed: string[] = [];
      const failedRetrain: string[] = [];
      const labelOf = (j: Job) => `${j.budget === undefined ? '' : `budget ${j.budget}, `}seed ${j.seed}`;
      const queue = [...jobs];
      const children = new Children();
      let error: unknown = null;
      const runJob = async (job: Job) => {
        const dir = path.join(groupOf(job), `${TRIAL_PREFIX}${job.seed}`);
        const label = labelOf(job);
        const args = job.budget === undefined ? searchArgs : [...searchArgs, flag, String(job.budget)];
        if (finished(groupOf(job), job.seed)) process.stderr.write(`trials: ${label} finished earlier (${dir}), skipped\n`);
        else {
          process.stderr.write(`trials: ${label}${fs.existsSync(path.join(dir, CHECKPOINT)) ? ' (resuming)' : ''} -> ${dir}\n`);
          const code = await runTrialSearch(children, args, dir, job.seed);
          if (code === 2) {
            for (const d of [dir, groupOf(job)]) removeIfEmpty(d); // what the refused search left: no empty budget-<B>/ in the report's folder
            throw new BadInputError(`trials: search exited 2 for ${label} (bad input; see its message above)`);
          }
          if (code !== 0 || !finished(groupOf(job), job.seed)) { // stopped early (Ctrl-C, --max-iterations): resumable
            failed.push(label);
            return;
          }
        }
        if (f.retrainIterations > 0) {
          if ((await runTrialRetrain(children, args, retrainArgs, f.retrainIterations, dir, job.seed, label)) === false) failedRetrain.push(label);
        }
      };
      const worker = async () => {
        while (children.stopped === null && queue.length) {
          try {
            await runJob(queue.shift()!);
          } catch (e) { // the other running searches stop with a checkpoint before trials exits
            error ??= e;
            children.stop('SIGINT', 'a run failed');
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(f.jobs, jobs.length) }, worker));
      } finally {
        children.close();
      }
      if (error !== null) {
        if (created) removeIfEmpty(f.out);
        throw error;
      }
      const notStarted = queue.map(labelOf); // trials was stopping (a signal) before their turn
      const finishedCount = jobs.length - failed.length - notStarted.length;
      process.stdout.write(`trials: ${finishedCount}/${jobs.length} searches finished in ${f.out}` +
        `${f.retrainIterations ? `, ${finishedCount - failedRetrain.length} retrained` : ''}\n${summary(f.out, jobs)}  report: autodeeplab report ${f.out}\n`);
      const unfinished = [['searches that did not finish (each resumes from its checkpoint)', failed], ['searches not started', notStarted],
        ['retrainings that did not finish (each resumes from its checkpoint)', failedRetrain]] as const;
      for (const [what, list] of unfinished) if (list.length) process.stderr.write(`trials: ${what}: ${list.join('; ')}\n`);
      const signalCode = children.signalExitCode();
      if (signalCode !== null) process.stderr.write(`trials: stopped by ${children.signal}; the stopped runs are resumable: run the same command again\n`);
      else if (failed.length + failedRetrain.length) process.stderr.write('trials: run the same command again to continue\n');
      process.exitCode = signalCode ?? (failed.length || notStarted.length || failedRetrain.length ? 1 : 0);
    });
}

/** Per budget the band's last epoch, and each trial's cost and mIoU. */
function summary(out: string, jobs: Job[]): string {
  const groups = readGroups(out);
  return groups.map((g) => {
    const trials = g.trials.filter((t) => jobs.some((j) => j.seed === t.seed && (g.label === null ? j.budget === undefined : String(j.budget) === g.label)));
    const last = bandStats(trials.map((t) => t.mIoU)).pop();
    const points = trials.map((t) => tradeoffPoint(t, g.label)).filter((p) => p !== null);
    return (last ? `  ${g.label === null ? '' : `budget ${g.label}: `}supernet mIoU at epoch ${last.epoch}: median ${percent(last.median)}, ` +
      `min ${percent(last.min)}, max ${percent(last.max)}\n` : '') +
      points.map((p) => `    seed ${p.seed}: ${p.unit === 'ms' ? `${p.cost.toFixed(2)} ms` : `${(p.cost / 1e9).toFixed(2)} B Multi-Adds`}, ` +
        `mIoU ${percent(p.mIoU)} (${p.source === 'retrained' ? 'retrained, validation' : 'supernet, trainB'})\n`).join('');
  }).join('');
}
