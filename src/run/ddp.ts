/**
 * Data parallelism for `train`, `eval` and `search`, as PyTorch's DDP: one process per
 * rank (started by `--nproc N` through launchLocal, or by torchrun / Slurm
 * with its environment), weights broadcast from rank 0, gradients averaged
 * over the ranks before each optimiser step, each rank reading its own shard
 * of the batches (BatchSampler's shard) or of the images (evaluateDataset).
 * Batch norm is not synchronised: each process normalises with its own
 * batch's statistics (PyTorch's BatchNorm2d under DDP, not SyncBatchNorm);
 * rank 0's running statistics are the ones saved, and are given to every rank
 * before a validation. Only rank 0 writes the run directory; the other ranks
 * use a FollowerRun, which reads the checkpoint to resume and writes nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as T from '../engine';
import { Shard } from '../data/pipeline';
import { BadInputError } from '../util/errors';
import { Checkpoint, loadCheckpoint } from './checkpoint';
import { checkNprocFits, launchLocal, PROCESS_BYTES, watchLauncher } from './launch';
import { glooInterfaceFor } from './network';
import { CHECKPOINT, RunDir } from './run_dir';

/** This process's place in a data-parallel job. */
export type Parallel = Shard;

/**
 * Joins the job described by torchrun's environment (RANK, WORLD_SIZE,
 * MASTER_ADDR, MASTER_PORT; the ranks that --nproc starts have it too), or
 * returns null when there is none. A rank started by launchLocal exits when
 * its launcher is gone. On a CUDA device each rank uses cuda:LOCAL_RANK
 * (unless a device index was given) and NCCL when the build has it. Gloo
 * binds the interface that reaches MASTER_ADDR when the host name resolves to
 * loopback (glooInterfaceFor), saying so in one line on stderr.
 */
export async function joinJob(device: T.Device, timeoutMs = Number(process.env.AUTODEEPLAB_DIST_TIMEOUT_MS) || undefined): Promise<Parallel | null> {
  const job = T.dist.distributedEnv();
  if (!job) return null;
  watchLauncher();
  const cuda = device.startsWith('cuda');
  if (device === 'cuda') T.setDefaultDevice(`cuda:${job.localRank}` as T.Device);
  const backend = cuda && T.dist.availableBackends().includes('nccl') ? 'nccl' : 'gloo';
  const chosen = backend === 'gloo' ? await glooInterfaceFor(job.masterAddr) : null;
  if (chosen) process.stderr.write(`rank ${job.rank}: ${chosen.note}\n`);
  T.dist.initProcessGroup({ ...job, timeoutMs, backend, glooInterface: chosen?.iface });
  return { rank: job.rank, worldSize: job.worldSize };
}

/** Leaves the job joined by joinJob (nothing without one). */
export function leaveJob(): void {
  T.dist.destroy();
}

/** Gives every rank rank 0's values of the tensors (weights, buffers), in place. */
export function broadcastFromMain(p: Parallel | undefined, tensors: T.Tensor[]): void {
  if (p && p.worldSize > 1) T.dist.broadcast(tensors, 0);
}

/**
 * Replaces each parameter's gradient by its mean over the ranks, and returns
 * `loss` averaged over the ranks too (in the same collective). Every rank's
 * graph reaches the same parameters (drop-path masks draw from the same RNG
 * stream on every rank), so the lists match.
 */
export function averageGradients(p: Parallel | undefined, params: T.Tensor[], loss: number): number {
  if (!p || p.worldSize === 1) return loss;
  return T.tidy(() => {
    const grads = params.map((q) => q.grad).filter((g): g is T.Tensor => g !== null);
    const l = T.tensor([loss], [1], { dtype: 'float64' });
    T.dist.allReduceMean([...grads, l]);
    return l.item();
  });
}

/** x averaged over the ranks (a logged loss). */
export function meanOverRanks(p: Parallel | undefined, x: number): number {
  return averageGradients(p, [], x);
}

/**
 * Sums over the ranks (confusion-matrix counts, loss sums), in place. In
 * float64 (a mean times N): with `counts`, rounded, exact below 2^52 / N.
 */
export function sumOverRanks(p: Parallel | undefined, values: Float64Array, counts = false): void {
  if (!p || p.worldSize === 1) return;
  const mean = T.tidy(() => {
    const t = T.tensor(values, [values.length], { dtype: 'float64' });
    T.dist.allReduceMean([t]);
    return t.toArray();
  });
  mean.forEach((x, i) => (values[i] = counts ? Math.round(x * p.worldSize) : x * p.worldSize));
}

/**
 * Averages gradients group by group as a backward pass completes them (the
 * recomputed search's segments, heads to stem), overlapping communication
 * with computation: push(indices) starts that group's all-reduce (Gloo runs
 * it on its own threads) and hands the previous group, now averaged, to
 * `ready`; so each group's all-reduce runs during the next group's backward
 * pass. flush() waits for the last group. Without a job, push calls `ready` at once.
 */
export class OverlappedAverage {
  private pending: { indices: number[]; work: T.dist.PendingCollective } | null = null;
  constructor(private readonly p: Parallel | undefined, private readonly params: T.Tensor[], private readonly ready: (indices: number[]) => void) {}

  push(indices: number[]): void {
    if (!this.p || this.p.worldSize === 1) return this.ready(indices);
    const grads = T.tidy(() => indices.map((i) => this.params[i].grad).filter((g): g is T.Tensor => g !== null));
    const work = T.dist.startAllReduceMean(grads); // the collective holds the gradients' storage: the handles may go
    T.dispose(grads);
    this.flush();
    this.pending = { indices, work };
  }

  flush(): void {
    const last = this.pending;
    this.pending = null;
    if (!last) return;
    last.work.wait();
    this.ready(last.indices);
  }
}

/** A resume must have the job's size of the run it continues: each rank's batches depend on it (exit 2 naming --nproc). */
export function requireSameWorld(command: string, file: string, meta: Record<string, unknown>, p: Parallel | undefined): void {
  const saved = (meta.worldSize as number | undefined) ?? 1;
  const now = p?.worldSize ?? 1;
  if (saved !== now) {
    throw new BadInputError(`${command} --resume: ${file} was written by a job of ${saved} process(es), this one has ${now}; resume with ${saved > 1 ? `--nproc ${saved}` : 'one process'} (the batches of each process depend on it)`);
  }
}

/** True on every rank when any rank asks to stop (Ctrl-C on one of them): nobody is left waiting in a collective. */
export function agreeToStop(p: Parallel | undefined, local: boolean): boolean {
  if (!p || p.worldSize === 1) return local;
  return T.tidy(() => {
    const flag = T.tensor([local ? 1 : 0], [1]);
    T.dist.allReduceMean([flag]);
    return flag.item() > 0;
  });
}

/** Ctrl-C / SIGTERM on a rank other than 0: stop after this iteration, without a message (rank 0 prints one). */
export function quietStop(): () => boolean {
  let requested = false;
  const handler = () => {
    if (requested) process.exit(130);
    requested = true;
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => requested;
}

/** What a run needs of its run directory: a RunDir on rank 0, a FollowerRun (writing nothing) on the others. */
export type RunWriter = Pick<RunDir, 'checkpointFile' | 'begin' | 'save' | 'resume'> & { metrics: Pick<RunDir['metrics'], 'append'> };

/** The run directory as a rank other than 0 sees it: the checkpoint to resume from; every write is dropped. */
export class FollowerRun {
  readonly checkpointFile: string;
  readonly metrics = { append: (_record: Record<string, unknown>): void => {} };
  constructor(readonly out: string) {
    this.checkpointFile = path.join(out, CHECKPOINT);
  }
  begin(_config: Record<string, unknown>): void {}
  save(_ck: Checkpoint): void {}
  /** The checkpoint (settings are compared by rank 0, which refuses a mismatch for the whole job). */
  resume(command: string, kind: string, _settings?: Record<string, Record<string, unknown>>): Checkpoint & { iteration: number } {
    if (!fs.existsSync(this.checkpointFile)) throw new BadInputError(`${command} --resume: no ${CHECKPOINT} in ${this.out}`);
    const ck = loadCheckpoint(this.checkpointFile);
    if (ck.meta.kind !== kind) {
      T.dispose(Object.values(ck.tensors));
      throw new BadInputError(`${this.checkpointFile}: not a ${kind} checkpoint (kind ${String(ck.meta.kind)})`);
    }
    return { ...ck, iteration: ck.meta.iteration as number };
  }
}

/** argv with `--nproc N` removed and `--threads` set to each rank's share. */
export function rankArgv(argv: string[], share: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--nproc' || argv[i] === '--threads') i++;
    else if (!argv[i].startsWith('--nproc=') && !argv[i].startsWith('--threads=')) out.push(argv[i]);
  }
  return [...out, '--threads', String(share)];
}

/**
 * `--nproc N`: runs this very command as N local ranks (each with
 * floor(threads / N) threads) and returns the job's exit code (1 naming the
 * rank when one fails). Refused inside a job that is already distributed, and
 * (exit 2 naming --nproc) when N ranks of `rank.bytes` each (the command's
 * estimate of one rank; by default a bare process's) exceed this machine's memory.
 */
export async function launchSelf(nproc: number, threads: number, rank = { bytes: PROCESS_BYTES, what: 'a bare process' }): Promise<number> {
  if (T.dist.distributedEnv()) throw new BadInputError('--nproc: this process is already a rank of a distributed job (RANK and WORLD_SIZE are set); drop --nproc');
  checkNprocFits(nproc, rank.bytes, rank.what);
  const share = Math.max(1, Math.floor(threads / nproc));
  const { code } = await launchLocal({ nproc, threads, argv: rankArgv(process.argv.slice(1), share) });
  return code;
}
