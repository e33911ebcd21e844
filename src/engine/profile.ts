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

/**
 * Runs body with the profiler on; events come in completion order (an op's children before it).
 * timingOnly: only the outermost operators (depth 0), without arguments, which adds less time to each
 * (libtorch boxes no inputs for the callback, and nested operators are only counted); see withTimesOf.
 */
export function profileOps<R>(body: () => R, opts: { timingOnly?: boolean } = {}): { result: R; events: OpEvent[] } {
  native.profileStart(opts.timingOnly ?? false);
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

/**
 * The events of a recording run of a body with the outermost operators' times taken from a timing-only run
 * of the same body (profileOps' timingOnly, which records only those): the two must have run the same
 * outermost operators in the same order, else this throws. Nested events keep the recording run's times.
 */
export function withTimesOf(recorded: OpEvent[], timed: OpEvent[]): OpEvent[] {
  const outer = recorded.filter((e) => e.depth === 0);
  const k = outer.findIndex((e, j) => e.name !== timed[j]?.name || e.backward !== timed[j]?.backward);
  if (k >= 0 || outer.length !== timed.length) {
    const i = k >= 0 ? k : Math.min(outer.length, timed.length);
    throw new Error(`withTimesOf: the two runs ran different operators (${outer.length} and ${timed.length} outermost; ` +
      `first difference at ${i}: ${outer[i]?.name} and ${timed[i]?.name})`);
  }
  let j = 0;
  return recorded.map((e) => (e.depth === 0 ? { ...e, micros: timed[j++].micros } : e));
}
