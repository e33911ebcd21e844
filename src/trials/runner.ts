/**
 * The trials and sweep runner: what `autodeeplab trials` runs for one trial, each in its own process: the
 * search (its flags passed through) and, with --retrain-iterations, the
 * retraining of the genotype it decoded (`autodeeplab train` into the trial's
 * retrain/ folder). Also the helpers that read flags out of the passed-through
 * list, since commander leaves the search's flags unparsed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHECKPOINT } from '../run/run_dir';
import { DEFAULT_COST_SHAPE, RETRAIN_DIR, retrainedMIoU } from '../report/tradeoff';
import { BadInputError } from '../util/errors';
import { readJsonFile } from '../util/json';

/** Flags the retraining takes from the search's unless --retrain-args gives them: the same data, crops and machine. */
const INHERITED = ['--dataset', '--data-root', '--split', '--builtin-size', '--builtin-image-size', '--base-scale', '--base-longer-side',
  '--crop', '--batch-size', '--threads', '--device'];
const INHERITED_SWITCHES = ['--coarse', '--skip-bad'];
/** Flags trials sets itself for each retraining. */
export const OWN_TRAIN = ['--genotype', '--out', '--resume', '--iterations', '--seed'];

/** The name of a flag token (--name=value -> --name). */
export const flagName = (token: string) => token.split('=')[0];

/** The value of --name in a flag list (--name v or --name=v), or undefined. */
export function flagValue(args: readonly string[], name: string): string | undefined {
  const i = args.findIndex((a) => flagName(a) === name);
  if (i < 0) return undefined;
  return args[i].includes('=') ? args[i].slice(args[i].indexOf('=') + 1) : args[i + 1];
}

/** --retrain-args: whitespace-separated flags of `autodeeplab train` (no shell quoting). */
export function splitArgs(v: string): string[] {
  return v.split(/\s+/).filter((a) => a !== '');
}

/**
 * The retraining's flags: the search's data and machine flags, then the
 * user's; F is the one the trial's cost is counted at (its budget's, else 20)
 * so that the retrained network is the one plotted, unless the user gives one.
 */
export function trainArgs(searchArgs: readonly string[], retrainArgs: readonly string[], trialDir: string): string[] {
  const given = new Set(retrainArgs.filter((a) => a.startsWith('--')).map(flagName));
  const out: string[] = [];
  for (const name of INHERITED) {
    const v = flagValue(searchArgs, name);
    if (v !== undefined && !given.has(name)) out.push(name, v);
  }
  for (const name of INHERITED_SWITCHES) if (searchArgs.includes(name) && !given.has(name)) out.push(name);
  if (!given.has('--filter-multiplier')) {
    const cfg = readJsonFile(path.join(trialDir, 'config.json'), 'trials') as { budget?: { filterMultiplier: number } };
    out.push('--filter-multiplier', String(cfg.budget?.filterMultiplier ?? DEFAULT_COST_SHAPE.filterMultiplier));
  }
  return [...out, ...retrainArgs];
}

/** The signals trials passes on to its children. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * The `autodeeplab` child processes of one trials command. Each runs in its
 * own process group, so a terminal's Ctrl-C reaches trials only, which passes
 * each signal on once: search and train stop after the iteration with a
 * checkpoint on a first SIGINT / SIGTERM and exit at once on a second
 * (gracefulStop in options.ts); a double delivery would lose the checkpoint.
 * After the first signal (or stop()) no child starts; trials waits for the
 * running ones, so none outlives it holding its run folder's lock.
 */
export class Children {
  private readonly running = new Set<ChildProcess>();
  /** The first signal trials received, null: none. */
  signal: NodeJS.Signals | null = null;
  /** Why no new child starts (a signal, a failed run), null: they do. */
  stopped: string | null = null;
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.signal ??= signal;
    this.stop(signal, signal);
  };

  constructor() {
    for (const s of FORWARDED) process.on(s, this.onSignal);
  }

  /** Starts no more children and passes `signal` on to the running ones. */
  stop(signal: NodeJS.Signals, why: string): void {
    if (this.stopped === null) {
      this.stopped = why;
      const n = this.running.size; // none when the one failed run was the only one
      process.stderr.write(`\ntrials: ${why}: no new run starts${n === 0 ? '' : `; ${n} running told to stop (${signal}), waiting for them` +
        `${signal === 'SIGHUP' ? '' : ` (they stop after the iteration with a checkpoint; ${signal} again: at once)`}`}\n`);
    }
    for (const child of this.running) child.kill(signal);
  }

  /** The exit code of trials after a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM), null: no signal. */
  signalExitCode(): number | null {
    return this.signal === null ? null : 128 + os.constants.signals[this.signal];
  }

  /** Runs `autodeeplab <args>` in a child process; resolves with its exit code (null: not started, trials is stopping). */
  run(args: string[]): Promise<number | null> {
    if (this.stopped !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      // detached: its own process group (not unref'd: trials waits for it); stdout and stderr stay the terminal's.
      const child = spawn(process.execPath, [process.argv[1], ...args], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
      this.running.add(child);
      const done = (code: number) => {
        if (this.running.delete(child)) resolve(code);
      };
      child.once('error', () => done(1));
      child.once('exit', (code, signal) => done(code ?? (signal ? 128 + os.constants.signals[signal] : 1)));
    });
  }

  /** Stops listening for signals (after every child has exited). */
  close(): void {
    for (const s of FORWARDED) process.off(s, this.onSignal);
  }
}

/** The search of one trial (resumed from its checkpoint when there is one); its exit code, null: not started (trials is stopping). */
export function runTrialSearch(children: Children, searchArgs: string[], dir: string, seed: number): Promise<number | null> {
  const resume = fs.existsSync(path.join(dir, CHECKPOINT));
  return children.run(['search', ...searchArgs, '--seed', String(seed), '--out', dir, ...(resume ? ['--resume'] : [])]);
}

/** Retrains a finished trial's genotype into DIR/retrain (skipped when finished, resumed when interrupted); whether it finished, null: skipped. */
export async function runTrialRetrain(children: Children, searchArgs: string[], retrainArgs: string[], iterations: number, dir: string, seed: number, label: string): Promise<boolean | null> {
  const out = path.join(dir, RETRAIN_DIR);
  if (retrainedMIoU(dir) !== null) {
    process.stderr.write(`trials: ${label} retrained earlier (${out}), skipped\n`);
    return null;
  }
  if (children.stopped !== null) return false; // trials is stopping: not started
  const resume = fs.existsSync(path.join(out, CHECKPOINT));
  process.stderr.write(`trials: retraining ${label}${resume ? ' (resuming)' : ''} -> ${out}\n`);
  const code = await children.run(['train', '--genotype', path.join(dir, 'genotype.json'), '--out', out, '--iterations', String(iterations), '--seed', String(seed),
    ...(resume ? ['--resume'] : []), ...trainArgs(searchArgs, retrainArgs, dir)]);
  if (code === 2) throw new BadInputError(`trials: train exited 2 retraining ${label} (bad input; see its message above; --retrain-args: '${retrainArgs.join(' ')}')`);
  return code === 0 && retrainedMIoU(dir) !== null; // else stopped early (Ctrl-C, --max-iterations): resumable
}
