/**
 * Named parameters and buffers of a network, in creation order. Parameters
 * are kept (exempt from scopes) and require grad; buffers (BN running
 * statistics) are kept and do not. `stateDict()` is what checkpoints save.
 */
import * as T from '../engine';

export type Init = (shape: number[]) => T.Tensor;

export class ParameterStore {
  private readonly paramMap = new Map<string, T.Tensor>();
  private readonly bufferMap = new Map<string, T.Tensor>();

  /** A new trainable tensor named `name`, initialised by init. */
  param(name: string, shape: number[], init: Init): T.Tensor {
    if (this.paramMap.has(name) || this.bufferMap.has(name)) throw new Error(`ParameterStore: '${name}' defined twice`);
    const t = T.noGrad(() => T.tidy(() => init(shape))).keep().setRequiresGrad(true); // tidy: frees the init's intermediates
    this.paramMap.set(name, t);
    return t;
  }

  /** A new non-trainable tensor (running statistics). */
  buffer(name: string, value: T.Tensor): T.Tensor {
    if (this.paramMap.has(name) || this.bufferMap.has(name)) throw new Error(`ParameterStore: '${name}' defined twice`);
    this.bufferMap.set(name, value.keep());
    return value;
  }

  /**
   * Runs build and returns what it made with the indices (into parameters())
   * of the parameters it created: how a network hands each of its segments
   * its own parameter list (no name matching).
   */
  track<R>(build: () => R): { value: R; indices: number[] } {
    const before = this.paramMap.size;
    const value = build();
    return { value, indices: Array.from({ length: this.paramMap.size - before }, (_, i) => before + i) };
  }

  parameters(): T.Tensor[] {
    return [...this.paramMap.values()];
  }
  namedParameters(): [string, T.Tensor][] {
    return [...this.paramMap.entries()];
  }
  buffers(): [string, T.Tensor][] {
    return [...this.bufferMap.entries()];
  }
  /** Number of trainable scalars. */
  count(): number {
    return this.parameters().reduce((s, p) => s + p.size, 0);
  }

  stateDict(): Record<string, T.Tensor> {
    return Object.fromEntries([...this.paramMap, ...this.bufferMap]);
  }

  /** Copies values in; names and shapes must match exactly. `source` names the file in errors. */
  loadStateDict(sd: Record<string, T.Tensor>, source = 'state dict'): void {
    const want = new Map([...this.paramMap, ...this.bufferMap]);
    const missing = [...want.keys()].filter((k) => !(k in sd));
    const extra = Object.keys(sd).filter((k) => !want.has(k));
    if (missing.length || extra.length) {
      throw new Error(`${source}: does not match this network (missing: ${missing.slice(0, 5).join(', ') || 'none'}` +
        `${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}; unexpected: ${extra.slice(0, 5).join(', ') || 'none'})`);
    }
    T.noGrad(() => {
      for (const [k, t] of want) {
        if (sd[k].shape.join(',') !== t.shape.join(',')) {
          throw new Error(`${source}: '${k}' has shape [${sd[k].shape}], this network expects [${t.shape}]`);
        }
        T.assign(t, sd[k]);
      }
    });
  }

  dispose(): void {
    for (const t of [...this.paramMap.values(), ...this.bufferMap.values()]) t.dispose();
    this.paramMap.clear();
    this.bufferMap.clear();
  }
}

/** PyTorch's default conv init: U(-1/sqrt(fanIn), 1/sqrt(fanIn)), fanIn = in/groups * kH * kW. */
export function convInit(fanIn: number): Init {
  const bound = 1 / Math.sqrt(fanIn);
  return (shape) => T.uniform(shape, -bound, bound);
}

/** He (kaiming) normal init for ReLU nets: N(0, 2 / fanIn). */
export function heInit(fanIn: number): Init {
  const std = Math.sqrt(2 / fanIn);
  return (shape) => T.mul(T.randn(shape), std);
}

export const zerosInit: Init = (shape) => T.zeros(shape);
export const onesInit: Init = (shape) => T.ones(shape);
