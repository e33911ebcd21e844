/**
 * The one place that loads the native addon (build/autodeeplab.node) and the
 * one interface that types its whole surface. Handles are plain numbers that
 * name tensors held in C++; see native/src/tensor_table.h.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Handle = number;

/** A JS value as the dispatcher reads it against an operator's schema. */
export type NativeArg = number | boolean | string | null | undefined | NativeArg[];
export type NativeResult = Handle | number | boolean | string | null | undefined | NativeResult[];
/** [scalarType, device, requiresGrad, ...shape] */
export type TensorMeta = [number, string, boolean, ...number[]];

export interface NativeBinding {
  op(name: string, overload: string): number;
  schema(opId: number): string;
  call(opId: number, args: NativeArg[], discard?: boolean): NativeResult;

  fromBuffer(buffer: ArrayBuffer, byteOffset: number, shape: number[], scalarType: number, device: string): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  meta(h: Handle): TensorMeta;
  /** Where the addon writes each handle it returns with its metadata (see `newMeta`). */
  setMetaBuffer(buffer: Float64Array): void;
  free(h: Handle): boolean;
  freeMany(hs: Handle[]): void;
  liveCount(): number;
  sameStorage(a: Handle, b: Handle): boolean;

  setRequiresGrad(h: Handle, on: boolean): void;
  isLeaf(h: Handle): boolean;
  grad(h: Handle): Handle | null;
  setGrad(h: Handle, g: Handle | null): void;
  backward(outputs: Handle[], grads: (Handle | null)[] | null, retainGraph: boolean, createGraph: boolean): void;
  gradOf(outputs: Handle[], inputs: Handle[], grads: (Handle | null)[] | null, retainGraph: boolean,
    createGraph: boolean, allowUnused: boolean): (Handle | null)[];
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  setAnomalyEnabled(on: boolean): void;

  manualSeed(seed: number): void;
  /** The CPU generator's state, or CUDA device cudaIndex's. */
  rngState(cudaIndex?: number): Handle;
  setRngState(h: Handle, cudaIndex?: number): void;
  setNumThreads(n: number): void;
  numThreads(): number;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  buildInfo(): { torchVersion: string; cudaCompiled: boolean; config: string };
  /** Operator profiler (native/src/profiler.cc): start recording, then stop and take the events. */
  profileStart(timingOnly?: boolean): void;
  /** [name, depth, inside a backward node, microseconds, arguments as JSON] per operator, in completion order. */
  profileStop(): [string, number, boolean, number, string][];

  // c10d (native/src/distributed.cc, collectives.cc); checked by engine/distributed.ts.
  distBackends(): string[];
  distInit(options: NativeDistInit): number;
  /** Pending ids: distWait finishes each once. */
  distAllReduce(group: number, tensors: Handle[], scale: number, bucketCapBytes: number): number;
  distBroadcast(group: number, tensors: Handle[], root: number, bucketCapBytes: number): number;
  distBarrier(group: number): number;
  distWait(pending: number): void;
  distDestroy(group: number): boolean;
}

/** A TCPStore rendezvous (rank 0 serves it) and a process group on it. */
export interface NativeDistInit {
  backend: string;
  host: string;
  port: number;
  rank: number;
  worldSize: number;
  timeoutMs: number;
  /** The Gloo transport's address: a network interface, a host name or address, or this host's name. */
  device: { kind: 'interface' | 'hostname' | 'default'; name: string };
  /** Gloo's worker threads. */
  threads: number;
  /** Whether this process serves the TCPStore (default: rank 0). */
  storeServer?: boolean;
  /** A prefix for every store key (torchrun's agent store: /worker/attempt_N). */
  storePrefix?: string;
}

/**
 * Internal to the engine (tensor.ts reads it; nothing may transfer or detach
 * it: the addon keeps a pointer to its memory for the thread's life).
 * The metadata of the last tensor handle the addon returned on this thread:
 * [handle, ndim (-1: read it with meta()), scalar type, device type (0 CPU,
 * 1 CUDA), device index, requires grad, ...sizes] (native/src/tensors.cc,
 * writeMeta). A new Tensor whose handle is newMeta[0] takes its metadata from
 * here: one meta() call a tensor (an N-API call and a JS array built in C++)
 * was about 1.7 us, and a search iteration reads the shapes of ~23k tensors.
 */
export const newMeta = new Float64Array(64).fill(-1);

function load(): NativeBinding {
  const file = path.resolve(__dirname, '..', '..', '..', 'build', 'autodeeplab.node');
  if (!fs.existsSync(file)) {
    throw new Error(
      `autodeeplab: native addon not found at ${file}. Build it with \`npm run setup\` ` +
        '(needs libtorch: `apt-get install -y libtorch-dev`, or LIBTORCH=/path/to/libtorch).',
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const b = require(file) as NativeBinding;
  b.setMetaBuffer(newMeta);
  return b;
}

let binding: NativeBinding | undefined;

/**
 * The addon, loaded on first use: libtorch takes most of a second to load, and a
 * command that stops at a bad flag, or prints help, never needs it. The first
 * property read falls through to the prototype (a Proxy), which loads the addon
 * and copies its functions onto this object; later reads find them directly.
 */
export const native: NativeBinding = Object.create(
  new Proxy({}, {
    get(_target, key, receiver: Record<string | symbol, unknown>) {
      if (binding === undefined) {
        binding = load();
        Object.assign(receiver, binding);
      }
      return (binding as unknown as Record<string | symbol, unknown>)[key];
    },
  }),
) as NativeBinding;
