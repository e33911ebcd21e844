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

export interface NativeBinding {
  op(name: string, overload: string): number;
  schema(opId: number): string;
  call(opId: number, args: NativeArg[], discard?: boolean): NativeResult;

  fromBuffer(buffer: ArrayBuffer, byteOffset: number, shape: number[], scalarType: number, device: string): Handle;
  toBuffer(h: Handle): ArrayBuffer;
  /** [scalarType, device, requiresGrad, ...shape] */
  meta(h: Handle): [number, string, boolean, ...number[]];
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
  rngState(): Handle;
  setRngState(h: Handle): void;
  setNumThreads(n: number): void;
  numThreads(): number;
  cudaDeviceCount(): number;
  cudaSynchronize(): void;
  buildInfo(): { torchVersion: string; cudaCompiled: boolean; config: string };
}

function load(): NativeBinding {
  const file = path.resolve(__dirname, '..', '..', '..', 'build', 'autodeeplab.node');
  if (!fs.existsSync(file)) {
    throw new Error(
      `autodeeplab: native addon not found at ${file}. Build it with \`npm run setup\` ` +
        '(needs libtorch: `apt-get install -y libtorch-dev`, or LIBTORCH=/path/to/libtorch).',
    );
  }
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require(file) as NativeBinding;
}

export const native: NativeBinding = load();
