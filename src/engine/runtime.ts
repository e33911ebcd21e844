/** Process-wide engine settings: seeds, RNG state, threads, devices. */
import { native } from './native';
import { Tensor } from './tensor';
import { BadInputError } from '../util/errors';

export type Device = 'cpu' | 'cuda' | `cuda:${number}`;

let defaultDevice: Device = 'cpu';
let defaultFloat: 'float32' | 'float64' = 'float32';

/** The floating dtype creation ops use when none is given (torch.set_default_dtype). */
export function setDefaultFloatDType(dtype: 'float32' | 'float64'): void {
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`setDefaultFloatDType: expected float32 or float64, got ${String(dtype)}`);
  defaultFloat = dtype;
}
export function getDefaultFloatDType(): 'float32' | 'float64' {
  return defaultFloat;
}

/** Checks a device name and that this build can use it. */
export function checkDevice(device: string): Device {
  if (device === 'cpu') return device;
  const m = /^cuda(?::(\d+))?$/.exec(device);
  if (!m) throw new BadInputError(`device '${device}' is not valid; expected 'cpu', 'cuda', 'cuda:N' (or 'auto' on the command line)`);
  const count = native.cudaDeviceCount();
  if (count === 0) {
    throw new BadInputError(
      `device '${device}' requested, but this build of libtorch has no CUDA support or sees no GPU; ` +
        'build against a CUDA libtorch (LIBTORCH=/path/to/libtorch npm run setup) on a machine with a GPU',
    );
  }
  if (m[1] !== undefined && Number(m[1]) >= count) {
    throw new BadInputError(`device '${device}' requested, but only ${count} CUDA device(s) are visible`);
  }
  return device as Device;
}

/** The device creation ops use when none is given. */
export function setDefaultDevice(device: string): void {
  defaultDevice = checkDevice(device);
}
export function getDefaultDevice(): Device {
  return defaultDevice;
}

export function cudaAvailable(): boolean {
  return native.cudaDeviceCount() > 0;
}

/** Waits for queued GPU work (for timing); no-op on CPU. */
export function synchronize(): void {
  native.cudaSynchronize();
}

/** Same seed, same CPU results: seeds the CPU generator and every CUDA one. */
export function manualSeed(seed: number): void {
  if (!Number.isInteger(seed) || seed < 0) throw new RangeError(`manualSeed: seed must be a non-negative integer, got ${seed}`);
  native.manualSeed(seed);
}

/** CUDA device index of a device name, or undefined for the CPU. */
function cudaIndex(device: Device): number | undefined {
  if (device === 'cpu') return undefined;
  return device === 'cuda' ? 0 : Number(device.slice(5));
}

/** A generator's state as a uint8 tensor (for checkpoints): the CPU's, or a CUDA device's. */
export function getRngState(device: Device = 'cpu'): Tensor {
  return new Tensor(native.rngState(cudaIndex(checkDevice(device))));
}
export function setRngState(state: Tensor, device: Device = 'cpu'): void {
  if (state.dtype !== 'uint8') throw new TypeError(`setRngState: expected a uint8 tensor, got ${state.dtype}`);
  native.setRngState(state.id, cudaIndex(checkDevice(device)));
}

/** Intra-op threads libtorch uses (defaults to 1 in some builds: set it). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`setNumThreads: expected a positive integer, got ${n}`);
  native.setNumThreads(n);
}
export function getNumThreads(): number {
  return native.numThreads();
}

/** Tensors alive in the native table (for leak tests: count before, count after). */
export function memory(): { numTensors: number } {
  return { numTensors: native.liveCount() };
}

export function buildInfo(): { torchVersion: string; cudaCompiled: boolean; cudaDevices: number } {
  const b = native.buildInfo();
  return { torchVersion: b.torchVersion, cudaCompiled: b.cudaCompiled, cudaDevices: native.cudaDeviceCount() };
}
