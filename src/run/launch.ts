/**
 * Local multi-process launch, like `torchrun --standalone --nproc-per-node N`:
 * N copies of a command, each told its place in the job through torchrun's
 * environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
 * MASTER_PORT) plus its share of the CPU threads (OMP_NUM_THREADS,
 * AUTODEEPLAB_THREADS). Rank 0's stdout and stderr are passed through (progress
 * bars keep their terminal); other ranks' stderr is passed through with a
 * `[rank K]` prefix and their stdout dropped. If a rank fails, the others are
 * stopped and the job ends with code 1, naming the rank. Ctrl-C (SIGINT) and
 * SIGTERM reach every rank exactly once: each rank runs in its own process
 * group, so a terminal's Ctrl-C reaches the launcher only, which forwards it;
 * after SIGTERM, ranks still running `termGraceMs` later are killed (as
 * torchrun does). Ranks watch their launcher (watchLauncher) and die with it,
 * even a SIGKILLed one.
 * @example
 *   const { code } = await launchLocal({ nproc: 2, threads: 4, argv: ['dist/src/cli/main.js', 'train', ...] });
 *   process.exitCode = code;
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as os from 'node:os';
import { Worker } from 'node:worker_threads';
import { BadInputError } from '../util/errors';

export interface LaunchOptions {
  /** Processes to start (ranks 0..nproc-1). */
  nproc: number;
  /** CPU threads for the whole job; each rank gets max(1, floor(threads / nproc)). */
  threads: number;
  /** Script and arguments each rank runs with this Node (default: this process's own, process.argv.slice(1)). */
  argv?: string[];
  /** Environment the ranks' variables are added to (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Rank 0's TCPStore port (default: a free port on 127.0.0.1). */
  masterPort?: number;
  /** Prefix of the launcher's own messages (default 'autodeeplab launch'). */
  label?: string;
  /** After stopping a rank with SIGTERM, SIGKILL follows this much later (default 5000 ms). */
  killGraceMs?: number;
  /** After a SIGTERM to the launcher, ranks still running this much later get SIGKILL (default 30 s, torchrun's). */
  termGraceMs?: number;
}

export interface LaunchResult {
  /**
   * 0: every rank succeeded; 2: a failing rank reported bad input (exit 2; failedRank); 1: a rank failed otherwise
   * (failedRank: the first); after Ctrl-C, the first non-zero code of a rank, else 0.
   */
  code: number;
  failedRank?: number;
}

/** Resident memory of a rank before any model or batch: node, libtorch, sharp, the data pipeline (measured). */
export const PROCESS_BYTES = 0.36e9;

/**
 * Refuses (exit 2, naming --nproc) more local ranks than this machine's
 * memory holds at `rankBytes` each (a command's own estimate of one rank, or
 * PROCESS_BYTES), with 10% to spare as the commands' own checks.
 */
export function checkNprocFits(nproc: number, rankBytes: number, what: string, totalBytes = os.totalmem()): void {
  const most = Math.floor((0.9 * totalBytes) / rankBytes);
  if (nproc <= most) return;
  const gb = (b: number) => `${(b / 1e9).toFixed(1)} GB`;
  throw new BadInputError(`--nproc: ${nproc} processes need about ${gb(nproc * rankBytes)} of memory (${gb(rankBytes)} each: ${what}) ` +
    `but this machine has ${gb(totalBytes)}; at most ${Math.max(most, 0)} fit`);
}

/**
 * Ranks of this job on this machine, which share its memory: LOCAL_WORLD_SIZE
 * (--nproc and torchrun set it) in a job, else 1.
 */
export function ranksHere(inJob: boolean, env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LOCAL_WORLD_SIZE);
  return inJob && Number.isInteger(n) && n > 1 ? n : 1;
}

/** How a memory refusal says that the machine is shared by `ranks` processes ('' for one). */
export function sharedBy(ranks: number, totalBytes: number): string {
  return ranks > 1 ? ` for ${ranks} processes (--nproc, LOCAL_WORLD_SIZE), ${(totalBytes / ranks / 1e9).toFixed(1)} GB each` : '';
}

/** A TCP port nobody listens on at this moment (as torchrun --standalone picks one). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** The environment of one rank of a local job. */
export function rankEnv(base: NodeJS.ProcessEnv, rank: number, nproc: number, masterPort: number, threads: number): NodeJS.ProcessEnv {
  const share = String(Math.max(1, Math.floor(threads / nproc)));
  return {
    ...base, RANK: String(rank), WORLD_SIZE: String(nproc), LOCAL_RANK: String(rank), LOCAL_WORLD_SIZE: String(nproc),
    MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(masterPort), OMP_NUM_THREADS: share, AUTODEEPLAB_THREADS: share,
    AUTODEEPLAB_LAUNCHER_PID: String(process.pid),
  };
}

/** Passes a stream through line by line, each line prefixed. */
function prefixLines(stream: NodeJS.ReadableStream, prefix: string, out: NodeJS.WritableStream): void {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) out.write(`${prefix}${line}\n`);
  });
  stream.on('end', () => {
    if (rest) out.write(`${prefix}${rest}\n`);
  });
}

/**
 * The job's failure once `rank` has exited with `code` after the first failure: still the first, unless this rank
 * found bad input (exit 2). The ranks blocked with it in a collective fail (exit 1) as soon as it exits, and the
 * launcher may reap them first; the bad input, not their broken connection, is what the job reports.
 */
export function laterFailure(first: LaunchResult, rank: number, code: number | null): LaunchResult {
  return code === 2 && first.code !== 2 ? { code: 2, failedRank: rank } : first;
}

/** Starts the ranks and resolves when every one has exited. */
export async function launchLocal(options: LaunchOptions): Promise<LaunchResult> {
  const { nproc, threads, argv = process.argv.slice(1), env = process.env, label = 'autodeeplab launch', killGraceMs = 5000, termGraceMs = 30_000 } = options;
  if (!Number.isInteger(nproc) || nproc < 1) throw new RangeError(`launchLocal: nproc must be a positive integer, got ${nproc}`);
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`launchLocal: threads must be a positive integer, got ${threads}`);
  const port = options.masterPort ?? (await freePort());
  const children: ChildProcess[] = [];
  const alive = new Set<number>();
  let failed: LaunchResult | null = null;
  let interrupted = false;
  let firstCode = 0;

  const killLater = (graceMs: number) => {
    for (const r of alive) setTimeout(() => alive.has(r) && children[r].kill('SIGKILL'), graceMs).unref();
  };
  const stopOthers = () => {
    for (const r of alive) children[r].kill('SIGTERM');
    killLater(killGraceMs);
  };
  const forward = (signal: NodeJS.Signals) => () => {
    interrupted = true;
    for (const r of alive) children[r].kill(signal);
    if (signal === 'SIGTERM') killLater(termGraceMs); // a rank blocked in a collective cannot act on it
  };
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  try {
    await new Promise<void>((resolve) => {
      const exited = (rank: number, code: number | null, signal: NodeJS.Signals | null, error?: Error) => {
        if (!alive.delete(rank)) return;
        const bad = code !== 0 || error !== undefined;
        if (bad && firstCode === 0) firstCode = code ?? 1;
        if (bad && failed && !interrupted) failed = laterFailure(failed, rank, code);
        if (bad && !failed && !interrupted) {
          failed = { code: code === 2 ? 2 : 1, failedRank: rank }; // bad input stays exit 2 under --nproc
          const why = error ? error.message : signal ? `was killed by ${signal}` : `exited with code ${code}`;
          process.stderr.write(`${label}: rank ${rank} ${why}; stopping the other ${nproc - 1} rank(s)\n`);
          stopOthers();
        }
        if (alive.size === 0) resolve();
      };
      for (let rank = 0; rank < nproc; rank++) {
        const child = spawn(process.execPath, [...process.execArgv, ...argv], {
          env: rankEnv(env, rank, nproc, port, threads),
          stdio: rank === 0 ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'ignore', 'pipe'],
          detached: true, // its own process group: a terminal's Ctrl-C reaches the launcher only, which forwards it once
        });
        children.push(child);
        alive.add(rank);
        if (child.stderr) prefixLines(child.stderr, `[rank ${rank}] `, process.stderr);
        child.once('error', (e) => exited(rank, null, null, e));
        child.once('close', (code, signal) => exited(rank, code, signal)); // after its output is flushed
      }
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  if (failed) return failed;
  return { code: interrupted ? firstCode : 0 };
}

let watching = false;

/**
 * In a rank started by launchLocal: exits when the launcher is gone (killed
 * with SIGKILL, say), so that no rank outlives its job. A worker thread
 * checks the parent twice a second, so a rank blocked in native code (a
 * collective, a join) dies too; it kills its own process with SIGKILL (a
 * worker cannot exit the process otherwise, and the main thread may not be
 * listening). Idempotent; nothing outside such a rank.
 */
export function watchLauncher(env: NodeJS.ProcessEnv = process.env): void {
  const pid = Number(env.AUTODEEPLAB_LAUNCHER_PID);
  if (watching || env.RANK === undefined || !Number.isInteger(pid) || pid <= 0) return;
  watching = true;
  const note = `rank ${env.RANK}: its launcher (pid ${pid}) is gone; exiting\n`;
  const watcher = new Worker(`
    const fs = require('node:fs');
    const gone = () => {
      try { fs.writeSync(2, ${JSON.stringify(note)}); } catch {} // its reader may be gone too
      process.kill(process.pid, 'SIGKILL');
    };
    if (process.ppid !== ${pid}) gone();
    setInterval(() => process.ppid !== ${pid} && gone(), 500);`, { eval: true, stdout: false, stderr: false });
  watcher.unref();
}
