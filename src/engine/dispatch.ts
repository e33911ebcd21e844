/**
 * Calling libtorch operators by schema name. Op files validate their inputs
 * in TypeScript first; this layer resolves `aten::name.overload` once, turns
 * Tensors into handles and handles back into Tensors.
 */
import { Handle, native, NativeArg, NativeResult } from './native';
import { Tensor } from './tensor';

/** An argument in schema order: tensors, numbers, lists of either, strings. */
export type OpArg = Tensor | number | boolean | string | null | undefined | readonly OpArg[];

const opIds = new Map<string, number>();

function opId(qualified: string): number {
  let id = opIds.get(qualified);
  if (id === undefined) {
    const dot = qualified.indexOf('.');
    const name = dot < 0 ? qualified : qualified.slice(0, dot);
    const overload = dot < 0 ? '' : qualified.slice(dot + 1);
    id = native.op(name, overload);
    opIds.set(qualified, id);
  }
  return id;
}

function toNative(a: OpArg): NativeArg {
  if (a instanceof Tensor) return a.id;
  if (Array.isArray(a)) return a.map(toNative);
  return a as NativeArg;
}

function toArgs(args: readonly OpArg[]): NativeArg[] {
  const out = new Array<NativeArg>(args.length);
  for (let i = 0; i < args.length; i++) out[i] = toNative(args[i]);
  return out;
}

/** A recorded single-output operator call (see `traceOps`). */
export interface TracedCall {
  op: string;
  args: readonly OpArg[];
  output: Tensor;
}

let tracer: ((c: TracedCall) => void) | null = null;

/** Runs body and reports every single-output operator call made in it (for graph export). */
export function traceOps<R>(onCall: (c: TracedCall) => void, body: () => R): R {
  const before = tracer;
  tracer = onCall;
  try {
    return body();
  } finally {
    tracer = before;
  }
}

/** Whether ops are being traced (graph export, cost counting): shape-dependent shortcuts must not run then. */
export function isTracing(): boolean {
  return tracer !== null;
}

/** Call an operator that returns one tensor, e.g. `callTensor('aten::relu', [x])`. */
export function callTensor(qualified: string, args: readonly OpArg[]): Tensor {
  const r = native.call(opId(qualified), toArgs(args));
  if (typeof r !== 'number') throw new Error(`${qualified}: expected a tensor result`);
  const t = new Tensor(r);
  if (tracer) tracer({ op: qualified, args, output: t });
  return t;
}

/** Call an operator that returns several tensors (a tuple or a Tensor[]). */
export function callTensors(qualified: string, args: readonly OpArg[]): Tensor[] {
  const r = native.call(opId(qualified), toArgs(args));
  if (!Array.isArray(r)) throw new Error(`${qualified}: expected several tensors`);
  return (r as Handle[]).map((h) => new Tensor(h));
}

/** Call an in-place operator for its effect; no handle is made for its result. */
export function callInPlace(qualified: string, args: readonly OpArg[]): void {
  native.call(opId(qualified), toArgs(args), true);
}

/** Call an operator that returns a plain value (number, boolean). */
export function callValue(qualified: string, args: readonly OpArg[]): NativeResult {
  return native.call(opId(qualified), toArgs(args));
}

/** The schema of an operator, as libtorch prints it (for docs and errors). */
export function schemaOf(qualified: string): string {
  return native.schema(opId(qualified));
}
