/**
 * Operator profiling for benchmarks: every libtorch operator run while a body
 * runs (dispatcher calls from JS, the ops they call, autograd's backward
 * nodes), with its nesting depth, time and arguments (native/src/profiler.cc).
 */
import { native } from './native';

/** A tensor argument is its shape; int lists and bool lists are wrapped; anything else is null. */
export type OpArgument = number[] | number | boolean | { ints: number[] } | { bools: boolean[] } | null;

export interface OpEvent {
  /** e.g. 'aten::conv2d', or an autograd node such as 'ConvolutionBackward0'. */
  name: string;
  /**
   * 0: called from JS, or autograd's 'autograd::engine::evaluate_function: <node>' range around a
   * backward node; 1: called by a depth-0 op (or the backward node itself); ...
   */
  depth: number;
  /** Inside (or itself) an autograd backward node. */
  backward: boolean;
  micros: number;
  /** Arguments, recorded for depths 0 to 2 only (else empty). */
  args: OpArgument[];
}

/** Runs body with the profiler on; events come in completion order (an op's children before it). */
export function profileOps<R>(body: () => R): { result: R; events: OpEvent[] } {
  native.profileStart();
  let raw: ReturnType<typeof native.profileStop> = [];
  let result: R;
  try {
    result = body();
  } finally {
    raw = native.profileStop();
  }
  const events = raw.map(([name, depth, backward, micros, args]) =>
    ({ name, depth, backward, micros, args: args ? (JSON.parse(args) as OpArgument[]) : [] }));
  return { result, events };
}
