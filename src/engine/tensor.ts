/**
 * Tensor: a JS handle on a libtorch tensor. Operations are functions in
 * ./ops; this class holds identity, metadata, data transfer and autograd state.
 */
import { DType, dtypeOfScalarType, TypedArray, viewAs } from './dtype';
import { Handle, native, newMeta, TensorMeta as Meta } from './native';
import { setBatchFree, track, Tracked } from './scope';

// Safety net only: a tensor that is garbage collected without dispose() frees
// its native memory here. Scopes and dispose() are the real mechanism. A
// tensor a scope owns is registered only when it leaves the last scope alive
// (a tidy's result at top level) or is kept: register + unregister cost about
// 1 us a tensor, and most tensors of a step live and die inside one scope.
const finalizer = new FinalizationRegistry<Handle>((h) => {
  native.free(h);
});
setBatchFree((handles) => native.freeMany(handles));

/** The metadata the addon wrote with handle h (native.ts, newMeta), or null when it wrote none for h. */
function metaWrittenFor(h: Handle): Meta | null {
  const dim = newMeta[1];
  if (newMeta[0] !== h || dim < 0) return null;
  const type = newMeta[3];
  if (type !== 0 && type !== 1) return null;
  const device = type === 0 ? 'cpu' : newMeta[4] >= 0 ? `cuda:${newMeta[4]}` : 'cuda';
  const m: Meta = [newMeta[2], device, newMeta[5] !== 0];
  for (let d = 0; d < dim; d++) m.push(newMeta[6 + d]);
  return m;
}

export class Tensor implements Tracked {
  private handle: Handle;
  private meta: Meta | null;
  private kept = false;
  /** Whether the finalizer holds it (see above). */
  private registered = false;

  /** Wraps a native handle; the tensor is owned by the current scope. */
  constructor(handle: Handle) {
    this.handle = handle;
    this.meta = metaWrittenFor(handle);
    if (!track(this)) this.unscoped();
  }

  /** No scope owns it any more (or none did): the finalizer is its safety net. */
  unscoped(): void {
    if (this.registered || this.handle < 0) return;
    finalizer.register(this, this.handle, this);
    this.registered = true;
  }

  /** The native handle; throws after dispose. */
  get id(): Handle {
    if (this.handle < 0) throw new Error('tensor used after dispose()');
    return this.handle;
  }

  private info(): Meta {
    if (!this.meta) this.meta = native.meta(this.id);
    return this.meta;
  }

  /** (d0, d1, ...), read once from libtorch. */
  get shape(): number[] {
    return this.info().slice(3) as number[];
  }
  get rank(): number {
    return this.info().length - 3;
  }
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
  get dtype(): DType {
    return dtypeOfScalarType(this.info()[0]);
  }
  get device(): string {
    return this.info()[1];
  }

  get isDisposed(): boolean {
    return this.handle < 0;
  }
  get isKept(): boolean {
    return this.kept;
  }

  /** Exempt this tensor from scopes (parameters, buffers, optimiser state). */
  keep(): this {
    this.kept = true;
    this.unscoped();
    return this;
  }

  /** Free the native tensor now. Idempotent. */
  dispose(): void {
    if (this.handle < 0) return;
    native.free(this.release());
  }

  /** Marks this tensor disposed and returns its handle, which the caller must free (tidy frees many at once). */
  release(): Handle {
    const h = this.id;
    if (this.registered) finalizer.unregister(this);
    this.registered = false;
    this.handle = -1;
    return h;
  }

  // ---- data transfer -----------------------------------------------------

  /** A copy of the elements as the typed array of this dtype (int64 -> BigInt64Array). */
  data(): TypedArray {
    return viewAs(native.toBuffer(this.id), this.dtype);
  }

  /** The elements as plain numbers (int64 converted; float16 as raw bits is not supported). */
  toArray(): number[] {
    const d = this.data();
    if (this.dtype === 'float16') throw new TypeError('toArray(): convert float16 tensors to float32 first');
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }

  /** The single element of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item(): tensor has ${this.size} elements, shape [${this.shape}]`);
    return this.toArray()[0];
  }

  // ---- autograd ----------------------------------------------------------

  get requiresGrad(): boolean {
    return native.meta(this.id)[2];
  }
  /** Marks a leaf tensor as a variable to differentiate with respect to. */
  setRequiresGrad(on = true): this {
    native.setRequiresGrad(this.id, on);
    if (this.meta) this.meta[2] = on;
    return this;
  }
  get isLeaf(): boolean {
    return native.isLeaf(this.id);
  }
  /** The accumulated gradient (a new handle each call), or null. */
  get grad(): Tensor | null {
    const g = native.grad(this.id);
    return g === null ? null : new Tensor(g);
  }
  set grad(g: Tensor | null) {
    native.setGrad(this.id, g === null ? null : g.id);
  }
  /** Forget the gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    native.setGrad(this.id, null);
  }

  toString(): string {
    return this.isDisposed ? 'Tensor(disposed)' : `Tensor(${this.dtype}, [${this.shape}], ${this.device})`;
  }
}

/** Wrap handles returned by the native layer. */
export function wrap(h: Handle): Tensor {
  return new Tensor(h);
}
