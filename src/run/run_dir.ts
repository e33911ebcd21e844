/**
 * The run directory that search and train write (and report and eval read):
 *
 *   run.lock                 the pid of the process writing it (one writer at a time)
 *   config.json              the resolved configuration
 *   metrics.jsonl            one line per iteration (and per epoch / validation)
 *   checkpoint.safetensors   everything a resumed run needs (src/run/checkpoint.ts)
 *
 * A fresh run writes config.json and empties metrics.jsonl; a resumed one
 * loads the checkpoint, refuses other settings (naming the fields that differ)
 * and drops the metrics lines past the checkpoint, so that the log reads as
 * one uninterrupted run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../engine';
import { BadInputError } from '../util/errors';
import { checkOutputPath, writeFileAtomic } from '../util/files';
import { readJsonFile } from '../util/json';
import { Checkpoint, loadCheckpoint, saveCheckpoint } from './checkpoint';
import { configDifferences } from './config_schema';
import { MetricsLog } from './metrics_log';

export const CHECKPOINT = 'checkpoint.safetensors';
const LOCK = 'run.lock';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** The checkpoint in file, which must be of `kind` ('search' or 'train'). */
function loadKind(file: string, kind: string): Checkpoint {
  const ck = loadCheckpoint(file);
  if (ck.meta.kind !== kind) {
    T.dispose(Object.values(ck.tensors));
    throw new BadInputError(`${file}: not a ${kind} checkpoint (kind ${String(ck.meta.kind)})`);
  }
  return ck;
}

export class RunDir {
  readonly checkpointFile: string;
  readonly metrics: MetricsLog;
  private readonly lockFile: string;
  private readonly unlockOnExit = () => this.release();

  private constructor(readonly out: string) {
    this.checkpointFile = path.join(out, CHECKPOINT);
    this.metrics = new MetricsLog(path.join(out, 'metrics.jsonl'));
    this.lockFile = path.join(out, LOCK);
  }

  /**
   * Opens `out` for writing by this process: creates it and takes its lock.
   * A lock held by a live process is refused (exit 2, naming the process);
   * one left by a killed process is taken over. Call release() when done.
   */
  static acquire(out: string): RunDir {
    checkOutputPath('--out', out, 'dir'); // a folder or nothing yet, under a writable one
    fs.mkdirSync(out, { recursive: true });
    const run = new RunDir(out);
    for (let attempt = 0; ; attempt++) {
      try {
        fs.writeFileSync(run.lockFile, `${process.pid}\n`, { flag: 'wx' });
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
        const owner = Number.parseInt(fs.readFileSync(run.lockFile, 'utf8'), 10);
        if (Number.isInteger(owner) && owner !== process.pid && alive(owner)) {
          throw new BadInputError(`--out: ${out} is in use by process ${owner} (${run.lockFile}); wait for it, stop it, or choose another --out (if no run is going on there, delete the lock file)`);
        }
        fs.rmSync(run.lockFile, { force: true }); // stale: its process is gone
      }
    }
    process.on('exit', run.unlockOnExit); // also after a second Ctrl-C (process.exit)
    return run;
  }

  /** fn with out opened for writing (locked) by this process, released however fn ends. */
  static async with<R>(out: string, fn: (run: RunDir) => Promise<R>): Promise<R> {
    const created = !fs.existsSync(out);
    const run = RunDir.acquire(out);
    try {
      return await fn(run);
    } catch (e) {
      run.release();
      // A run that failed before writing anything (a refused --resume, a bad flag) leaves no empty folder behind.
      if (created && fs.readdirSync(out).length === 0) fs.rmdirSync(out);
      throw e;
    } finally {
      run.release();
    }
  }

  /** Gives the lock back (only ours: a lock taken over by another process is left alone). */
  release(): void {
    process.off('exit', this.unlockOnExit);
    try {
      if (Number.parseInt(fs.readFileSync(this.lockFile, 'utf8'), 10) === process.pid) fs.rmSync(this.lockFile, { force: true });
    } catch { /* already gone */ }
  }

  /** A fresh run: config.json, and an empty metrics log. */
  begin(config: Record<string, unknown>): void {
    writeFileAtomic(path.join(this.out, 'config.json'), JSON.stringify(config, null, 2) + '\n');
    writeFileAtomic(this.metrics.file, '');
  }

  /**
   * A resumed run: the checkpoint of `kind`, written with exactly `settings`
   * (each entry compared field by field with the one saved under its key).
   * Metrics lines past its iteration are dropped. Tensors are the caller's to
   * restore (inside a tidy scope, which frees them).
   */
  resume(command: string, kind: string, settings: Record<string, Record<string, unknown>>): Checkpoint & { iteration: number } {
    if (!fs.existsSync(this.checkpointFile)) {
      throw new BadInputError(`${command} --resume: no ${CHECKPOINT} in ${this.out} (start without --resume, or give the --out of an earlier run)`);
    }
    const ck = loadKind(this.checkpointFile, kind);
    const diffs = Object.entries(settings).flatMap(([key, now]) =>
      configDifferences((ck.meta[key] ?? {}) as Record<string, unknown>, now, key === 'config' ? '' : `${key}.`));
    if (diffs.length) {
      T.dispose(Object.values(ck.tensors));
      throw new BadInputError(`${command} --resume: ${this.checkpointFile} was written with other settings (${diffs.join('; ')}); resume with the same flags`);
    }
    const iteration = ck.meta.iteration as number;
    this.metrics.truncate((r) => (r.iteration as number) <= iteration);
    return { ...ck, iteration };
  }

  save(ck: Checkpoint): void {
    saveCheckpoint(this.checkpointFile, ck);
  }
}

/** A run directory as report and eval read it (no lock: reading never disturbs a running writer). */
export interface RunRecord {
  dir: string;
  /** config.json (null when absent). */
  config: Record<string, unknown> | null;
  metrics: Record<string, unknown>[];
  checkpointFile: string | null;
  /** The checkpoint, which must be of `kind` (a search checkpoint is no model, and the reverse). */
  loadCheckpoint(kind: string): Checkpoint;
}

export function readRunDir(dir: string): RunRecord {
  const metricsFile = path.join(dir, 'metrics.jsonl');
  if (!fs.existsSync(metricsFile)) {
    throw new BadInputError(`${dir} is not a run directory (no metrics.jsonl; expected the --out of search or train)`);
  }
  const configFile = path.join(dir, 'config.json');
  const ckFile = path.join(dir, CHECKPOINT);
  return {
    dir,
    config: fs.existsSync(configFile) ? (readJsonFile(configFile, 'run directory') as Record<string, unknown>) : null,
    metrics: MetricsLog.read(metricsFile),
    checkpointFile: fs.existsSync(ckFile) ? ckFile : null,
    loadCheckpoint: (kind: string) => loadKind(ckFile, kind),
  };
}
