/**
 * Data-parallel collectives on c10d, libtorch's distributed engine (Gloo on
 * CPU; NCCL in CUDA builds), as torch.distributed: one process per rank, a
 * TCPStore rendezvous served by rank 0, then all-reduce, broadcast and barrier
 * over lists of tensors (flattened into buckets, results written back in
 * place). Every failure is an Error: a peer that died fails the next
 * collective at once, a peer that hangs fails it after `timeoutMs`.
 * @example
 *   const job = distributedEnv();          // torchrun's RANK, WORLD_SIZE, ... or null
 *   if (job) initProcessGroup({ ...job, timeoutMs: 60_000 });
 *   broadcast(params, 0);                  // everyone starts from rank 0's weights
 *   allReduceMean(grads);                  // after each backward pass
 *   destroy();
 */
import { BadInputError } from '../util/errors';
import { isFloating } from './dtype';
import { native, NativeDistInit } from './native';
import { Tensor } from './tensor';

export type Backend = 'gloo' | 'nccl';

export interface ProcessGroupOptions {
  rank: number;
  worldSize: number;
  /** Rank 0's address: it serves the TCPStore on masterPort. */
  masterAddr: string;
  masterPort: number;
  /** Bound on the rendezvous and on every collective, at least 1000 (default 10 minutes). */
  timeoutMs?: number;
  /** Default gloo; nccl needs a CUDA build. */
  backend?: Backend;
  /**
   * The store is torchrun's agent's (TORCHELASTIC_USE_AGENT_STORE=True): it
   * serves masterPort, every rank is a client, keys under /worker/attempt_N.
   */
  agentStore?: { restartCount: number };
  /** The interface Gloo binds (its address is the one the other ranks are told); GLOO_SOCKET_IFNAME's first one when unset. */
  glooInterface?: string;
}

/** What torchrun (and Slurm or Kubernetes set-ups that follow its contract) puts in the environment. */
export interface DistributedEnv {
  rank: number;
  worldSize: number;
  /** The rank on this machine (its GPU); 0 when LOCAL_RANK is unset (one process per machine). */
  localRank: number;
  masterAddr: string;
  masterPort: number;
  /** Set when torchrun's agent serves the store on masterPort (static rendezvous: torchrun --master-port ...). */
  agentStore?: { restartCount: number };
}

export const DEFAULT_TIMEOUT_MS = 600_000;
/** Bytes per all-reduce bucket (PyTorch DDP's default, 25 MiB). */
export const DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024;

let group: { id: number; rank: number; worldSize: number; backend: Backend } | null = null;

function fail(fn: string, arg: string, expected: string, got: unknown): never {
  throw new RangeError(`${fn}: ${arg} must be ${expected}, got ${typeof got === 'string' ? `'${got}'` : String(got)}`);
}
const isInt = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

/**
 * RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT from the environment,
 * or null when neither RANK nor WORLD_SIZE is set (not a distributed job). A job
 * with some of them missing or out of range is a BadInputError naming the variable.
 */
export function distributedEnv(env: NodeJS.ProcessEnv = process.env): DistributedEnv | null {
  if (env.RANK === undefined && env.WORLD_SIZE === undefined) return null;
  const missing = ['RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'].filter((k) => !env[k]);
  if (missing.length) throw new BadInputError(`distributed job: ${missing.join(', ')} not set (RANK and WORLD_SIZE were given; torchrun sets all of RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)`);
  const int = (name: string, lo: number, hi: number, fallback?: number): number => {
    const raw = env[name];
    if (raw === undefined && fallback !== undefined) return fallback;
    const v = /^\d+$/.test(raw ?? '') ? Number(raw) : NaN;
    if (!isInt(v, lo, hi)) throw new BadInputError(`distributed job: ${name} must be an integer in ${lo}..${hi}, got '${raw}'`);
    return v;
  };
  const worldSize = int('WORLD_SIZE', 1, 65535);
  return {
    rank: int('RANK', 0, worldSize - 1),
    worldSize,
    localRank: int('LOCAL_RANK', 0, worldSize - 1, 0),
    masterAddr: env.MASTER_ADDR as string,
    masterPort: int('MASTER_PORT', 1, 65535),
    // As PyTorch's env:// rendezvous: with the agent's store, rank 0 must not try to serve MASTER_PORT itself.
    ...(env.TORCHELASTIC_USE_AGENT_STORE === 'True' ? { agentStore: { restartCount: int('TORCHELASTIC_RESTART_COUNT', 0, 1e9, 0) } } : {}),
  };
}

/**
 * Which address Gloo's transport binds: the given interface, GLOO_SOCKET_IFNAME's,
 * loopback for a job on loopback that is all on this machine (LOCAL_WORLD_SIZE
 * = WORLD_SIZE: --nproc, torchrun --standalone), else this host's name (as
 * PyTorch). A loopback MASTER_ADDR alone proves nothing: Kubernetes' PyTorchJob
 * gives its master pod MASTER_ADDR=localhost while the workers are elsewhere.
 */
function glooDevice(masterAddr: string, env: NodeJS.ProcessEnv, glooInterface?: string): NativeDistInit['device'] {
  const iface = glooInterface ?? env.GLOO_SOCKET_IFNAME?.split(',')[0];
  if (iface) return { kind: 'interface', name: iface };
  const local = env.LOCAL_WORLD_SIZE !== undefined && env.LOCAL_WORLD_SIZE === env.WORLD_SIZE;
  if (local && /^(localhost|127\.\d+\.\d+\.\d+|::1)$/.test(masterAddr)) return { kind: 'hostname', name: masterAddr === '::1' ? '::1' : '127.0.0.1' };
  return { kind: 'default', name: '' };
}

/** What to check when a rank could not join (the native message alone, e.g. "Stop_waiting response is expected", names no cause). */
function joinHints(masterAddr: string, masterPort: number, rank: number, backend: Backend, device: NativeDistInit['device']): string {
  const bound = device.kind === 'interface' ? `interface ${device.name}` : device.kind === 'hostname' ? `address ${device.name}` : "this host name's address";
  const store = `${masterAddr}:${masterPort}`;
  const first = rank === 0 ? `MASTER_PORT ${masterPort} is free on this machine, and every rank reaches ${store}`
    : `rank 0 is running and serves ${store} (no other program or earlier job does), and every rank reaches it`;
  return `check: ${first} (a firewall may block it, and the ports Gloo picks); every rank has the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE; ` +
    (backend === 'gloo' ? `Gloo uses ${bound} and tells the other ranks its address: GLOO_SOCKET_IFNAME names the interface the other machines reach` : 'NCCL_SOCKET_IFNAME names the interface the other machines reach');
}

/** The process groups this build has ('gloo' with Gloo's headers at build time; 'nccl' in CUDA builds). */
export function availableBackends(): Backend[] {
  return native.distBackends() as Backend[];
}

/**
 * Joins the job: every rank calls it with the same worldSize, masterAddr and
 * masterPort; it returns once all have joined (or throws after timeoutMs).
 */
export function initProcessGroup(options: ProcessGroupOptions): void {
  const fn = 'initProcessGroup';
  if (typeof options !== 'object' || options === null) fail(fn, 'options', 'an object', options);
  const { rank, worldSize, masterAddr, masterPort, timeoutMs = DEFAULT_TIMEOUT_MS, backend = 'gloo', agentStore, glooInterface } = options;
  if (group) throw new Error(`${fn}: a process group is already initialised (rank ${group.rank} of ${group.worldSize}); destroy() it first`);
  if (!isInt(worldSize, 1, 65535)) fail(fn, 'worldSize', 'an integer in 1..65535', worldSize);
  if (!isInt(rank, 0, worldSize - 1)) fail(fn, 'rank', `an integer in 0..${worldSize - 1} (worldSize ${worldSize})`, rank);
  if (typeof masterAddr !== 'string' || masterAddr === '' || /\s/.test(masterAddr)) fail(fn, 'masterAddr', 'a host name or address', masterAddr);
  if (!isInt(masterPort, 1, 65535)) fail(fn, 'masterPort', 'an integer in 1..65535', masterPort);
  // c10d's sockets count whole seconds: below 1000 ms even rank 0's own connection times out at once.
  if (!isInt(timeoutMs, 1000, 2 ** 31 - 1)) fail(fn, 'timeoutMs', 'an integer number of milliseconds, at least 1000', timeoutMs);
  if (backend !== 'gloo' && backend !== 'nccl') fail(fn, 'backend', "'gloo' or 'nccl'", backend);
  if (!availableBackends().includes(backend)) {
    throw new Error(`${fn}: backend '${backend}' is not in this build (it has: ${availableBackends().join(', ') || 'none'}); ` +
      (backend === 'gloo' ? 'install libgloo-dev and rebuild (npm run setup)' : 'NCCL needs a CUDA libtorch'));
  }
  if (glooInterface !== undefined && (typeof glooInterface !== 'string' || !/^[^\s/]{1,15}$/.test(glooInterface))) fail(fn, 'glooInterface', 'a network interface name', glooInterface);
  let id: number;
  const device = glooDevice(masterAddr, process.env, glooInterface);
  try {
    const store = agentStore ? { storeServer: false, storePrefix: `/worker/attempt_${agentStore.restartCount}` } : {};
    id = native.distInit({ backend, host: masterAddr, port: masterPort, rank, worldSize, timeoutMs, device, threads: 2, ...store });
  } catch (e) {
    throw new Error(`${fn}: rank ${rank} of ${worldSize} could not join the job at ${masterAddr}:${masterPort} (${backend}, timeout ${timeoutMs} ms): ` +
      `${(e as Error).message}\n${joinHints(masterAddr, masterPort, rank, backend, device)}`);
  }
  group = { id, rank, worldSize, backend };
}

export function isInitialized(): boolean {
  return group !== null;
}
/** This process's rank (0 without a process group). */
export function getRank(): number {
  return group?.rank ?? 0;
}
/** Processes in the job (1 without a process group). */
export function getWorldSize(): number {
  return group?.worldSize ?? 1;
}

function current(fn: string): NonNullable<typeof group> {
  if (!group) throw new Error(`${fn}: no process group; call initProcessGroup() first`);
  return group;
}

function handles(fn: string, tensors: Tensor[], floating: boolean): number[] {
  if (!Array.isArray(tensors)) fail(fn, 'tensors', 'an array of tensors', tensors);
  return tensors.map((t, i) => {
    if (!(t instanceof Tensor)) fail(fn, `tensors[${i}]`, 'a Tensor', t);
    if (t.isDisposed) throw new Error(`${fn}: tensors[${i}] was disposed`);
    if (floating && !isFloating(t.dtype)) fail(fn, `tensors[${i}]`, 'a floating-point tensor (a mean)', t.dtype);
    return t.id;
  });
}

function bucketBytes(fn: string, v: number | undefined): number {
  if (v === undefined) return DEFAULT_BUCKET_BYTES;
  if (!isInt(v, 0, Number.MAX_SAFE_INTEGER)) fail(fn, 'bucketBytes', 'a non-negative integer (0: one bucket per dtype)', v);
  return v;
}

/** A collective under way (Gloo runs it on its own threads); wait() finishes it, once. */
export class PendingCollective {
  private done = false;
  constructor(private readonly id: number | null) {}
  /** Blocks until every rank has taken part, then writes the results into the tensors; throws on failure or timeout. */
  wait(): void {
    if (this.done) throw new Error('PendingCollective.wait(): already waited for');
    this.done = true;
    if (this.id !== null) native.distWait(this.id);
  }
}

/** Starts the mean over ranks of every tensor, in place (the tensors must not change until wait()). */
export function startAllReduceMean(tensors: Tensor[], options: { bucketBytes?: number } = {}): PendingCollective {
  const fn = 'allReduceMean';
  const ids = handles(fn, tensors, true);
  const g = current(fn);
  const cap = bucketBytes(fn, options.bucketBytes);
  return new PendingCollective(g.worldSize === 1 || ids.length === 0 ? null : native.distAllReduce(g.id, ids, 1 / g.worldSize, cap));
}

/** Replaces every tensor by its mean over the ranks (gradients after backward), in place. */
export function allReduceMean(tensors: Tensor[], options: { bucketBytes?: number } = {}): void {
  startAllReduceMean(tensors, options).wait();
}

/** Gives every rank root's values of the tensors (same shapes and dtypes on every rank), in place. */
export function broadcast(tensors: Tensor[], root = 0, options: { bucketBytes?: number } = {}): void {
  const fn = 'broadcast';
  const ids = handles(fn, tensors, false);
  const g = current(fn);
  if (!isInt(root, 0, g.worldSize - 1)) fail(fn, 'root', `a rank in 0..${g.worldSize - 1}`, root);
  const cap = bucketBytes(fn, options.bucketBytes);
  if (g.worldSize > 1 && ids.length > 0) native.distWait(native.distBroadcast(g.id, ids, root, cap));
}

/** Returns once every rank has called it. */
export function barrier(): void {
  const g = current('barrier');
  if (g.worldSize > 1) native.distWait(native.distBarrier(g.id));
}

/** Leaves the job: frees the process group and the store (idempotent). */
export function destroy(): void {
  if (!group) return;
  const id = group.id;
  group = null;
  native.distDestroy(id);
}
