/** A part of the retrained network as latency tables time it, and the clocks it is timed by (deploy/part_timing.ts, web/part_timing.ts). */
import * as T from '../engine';
import type { ProfiledPart } from './ort_profile';

export type RuntimeName = 'libtorch' | 'onnxruntime' | 'web';

/** call (web): the times of a bare call on the part's input (web/part_timing.ts). */
export interface PartTiming { wall: number; cpu: number; profile?: ProfiledPart; call?: { wall: number; cpu: number } }

/** A timed computation: input (1, C, H, W) -> output. */
export interface Part {
  key: string;
  input: [number, number, number, number];
  forward: (x: T.Tensor) => T.Tensor;
}

/**
 * wall: elapsed time. cpu: this process's CPU time (user + system), which a
 * busy machine does not inflate by the waits of a preempted run; with one
 * thread it is the elapsed time of a quiet machine. Each sample runs the part
 * often enough to span at least 20 ms (kernel CPU accounting is coarse).
 */
export type Clock = 'wall' | 'cpu';
