/**
 * Memory scopes, as tf.tidy: every tensor made inside `tidy(fn)` is freed when
 * fn returns, except the tensors it returns (which move to the enclosing
 * scope) and tensors marked with `keep` (parameters, optimiser state).
 * Finalizers (tensor.ts) are only a safety net: loops must not rely on GC.
 */

/** What a scope can free. Implemented by Tensor. */
export interface Tracked {
  readonly isDisposed: boolean;
  readonly isKept: boolean;
  dispose(): void;
  /** Marks it disposed and hands over its native handle, for one batched free (tidy). */
  release?(): number;
  /** Called when no scope owns it any more: it survived the outermost scope (its finalizer takes over). */
  unscoped?(): void;
}

/** Frees many native handles in one call (set by tensor.ts: the scope layer does not load the addon). */
let freeHandles: ((handles: number[]) => void) | null = null;
export function setBatchFree(fn: (handles: number[]) => void): void {
  freeHandles = fn;
}

const scopes: Tracked[][] = [];

/** Register a new tensor with the innermost scope; false outside scopes (nothing owns it). */
export function track(t: Tracked): boolean {
  const top = scopes[scopes.length - 1];
  if (top) top.push(t);
  return top !== undefined;
}

/** A tree of results whose tensors survive a scope. */
export type TensorContainer = Tracked | null | undefined | void | number | string | boolean |
  readonly TensorContainer[] | { readonly [key: string]: TensorContainer };

function collect(value: unknown, into: Set<Tracked>, depth = 0): void {
  if (value === null || typeof value !== 'object' || depth > 32) return;
  if (isTracked(value)) {
    into.add(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collect(v, into, depth + 1);
    return;
  }
  if (Object.getPrototypeOf(value) === Object.prototype || value instanceof Map) {
    const values = value instanceof Map ? [...value.values()] : Object.values(value);
    for (const v of values) collect(v, into, depth + 1);
  }
}

function isTracked(v: object): v is Tracked {
  return typeof (v as Tracked).dispose === 'function' && 'isKept' in v;
}

/**
 * Run fn and free every tensor it made except those in its result.
 * fn must be synchronous: a scope spans exactly one call.
 * @example const y = tidy(() => relu(add(x, b)));
 */
export function tidy<T>(fn: () => T): T {
  scopes.push([]);
  let result: T | undefined;
  let ok = false;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new TypeError('tidy(fn): fn returned a Promise; scopes must be synchronous');
    }
    ok = true;
    return result;
  } finally {
    const made = scopes.pop()!;
    const survivors = new Set<Tracked>();
    if (ok) collect(result, survivors);
    // One native call frees them all: a search iteration makes ~70k tensors, one call each was measurable.
    const handles: number[] = [];
    for (const t of made) {
      if (survivors.has(t)) {
        if (!track(t) && !t.isDisposed) t.unscoped?.();
      } else if (!t.isKept && !t.isDisposed) {
        if (t.release && freeHandles) handles.push(t.release());
        else t.dispose();
      }
    }
    if (handles.length) freeHandles!(handles);
  }
}

/** Free tensors now (any container of them). */
export function dispose(value: unknown): void {
  const all = new Set<Tracked>();
  collect(value, all);
  for (const t of all) t.dispose();
}

/** The number of open scopes (for tests and assertions). */
export function scopeDepth(): number {
  return scopes.length;
}
