/**
 * --device: where weights, optimiser state and batches live. 'auto' is a
 * CUDA device when this build of libtorch has CUDA and sees a GPU, else the
 * CPU. Checkpoints are device-independent (written from CPU copies, loaded
 * onto the device in use), so a run may resume on another device.
 */
import * as T from '../engine';
import { BadInputError } from '../util/errors';

export const DEVICE_HELP = "cpu, cuda, cuda:N or auto (CUDA when this libtorch has it and a GPU is visible)";

/** The device a --device value names on this machine; bad values exit 2 naming the flag. */
export function resolveDevice(flag: string): T.Device {
  if (flag === 'auto') return T.cudaAvailable() ? 'cuda' : 'cpu';
  try {
    return T.checkDevice(flag);
  } catch (e) {
    throw new BadInputError(`--device: ${(e as Error).message}`);
  }
}

/** Resolves --device and makes it the default for every tensor the run creates. */
export function useDevice(flag: string): T.Device {
  const device = resolveDevice(flag);
  T.setDefaultDevice(device);
  return device;
}

/** RNG state a checkpoint carries: the CPU generator's, and the CUDA device's when the run is on one. */
export function rngStateTensors(device: T.Device): Record<string, T.Tensor> {
  return device === 'cpu' ? { rng: T.getRngState() } : { rng: T.getRngState(), rng_cuda: T.getRngState(device) };
}

/** Restores what rngStateTensors saved (a CUDA state is restored only when resuming on a CUDA device). */
export function restoreRngState(tensors: Record<string, T.Tensor>, device: T.Device): void {
  T.setRngState(tensors.rng);
  if (device !== 'cpu' && tensors.rng_cuda) T.setRngState(tensors.rng_cuda, device);
}
