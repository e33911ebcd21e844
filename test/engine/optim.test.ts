/** SGD, Adam and AdamW against plain-JS implementations of torch.optim's update rules. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { assertClose, randomArray } from '../helpers';

// Gradient of f(p) = sum(c * p^2 / 2) is c * p: a fixed, parameter-dependent gradient.
const coef = randomArray(6, 61).map((v) => v + 1.5);
const gradOf = (p: number[]) => p.map((v, i) => coef[i] * v);

function run(opt: T.Optimizer, p: T.Tensor, steps: number): number[] {
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    T.tidy(() => T.backward(T.sum(T.mul(T.mul(T.mul(p, p), T.tensor(coef, [2, 3])), 0.5))));
    opt.step();
  }
  return p.toArray();
}

function sgdRef(p0: number[], steps: number, lr: number, momentum: number, wd: number, nesterov: boolean, dampening = 0): number[] {
  const p = [...p0];
  let buf: number[] | null = null;
  for (let s = 0; s < steps; s++) {
    let d = gradOf(p).map((g, i) => g + wd * p[i]);
    if (momentum) {
      buf = buf ? buf.map((b, i) => momentum * b + (1 - dampening) * d[i]) : [...d];
      d = nesterov ? d.map((v, i) => v + momentum * buf![i]) : buf;
    }
    for (let i = 0; i < p.length; i++) p[i] -= lr * d[i];
  }
  return p;
}

function adamRef(p0: number[], steps: number, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  for (let t = 1; t <= steps; t++) {
    let g = gradOf(p);
    if (decoupled) for (let i = 0; i < p.length; i++) p[i] *= 1 - lr * wd;
    else g = g.map((x, i) => x + wd * p[i]);
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mh = m[i] / (1 - b1 ** t);
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
      p[i] -= lr * mh / denom;
    }
  }
  return p;
}

const p0 = randomArray(6, 62);
const param = () => T.tensor(p0, [2, 3], { requiresGrad: true }).keep();

describe('optimisers', () => {
  for (const [momentum, wd, nesterov] of [[0, 0, false], [0.9, 3e-4, false], [0.9, 1e-2, true]] as [number, number, boolean][]) {
    it(`SGD momentum=${momentum} weightDecay=${wd} nesterov=${nesterov} follows torch's rule`, () => {
      const p = param();
      const got = run(new T.SGD([p], { lr: 0.05, momentum, weightDecay: wd, nesterov }), p, 7);
      assertClose(got, sgdRef(p0, 7, 0.05, momentum, wd, nesterov), 1e-5);
    });
  }

  it('Adam (L2 decay) and AdamW (decoupled decay) follow torch\'s rules', () => {
    const a = param();
    assertClose(run(new T.Adam([a], { lr: 3e-3, weightDecay: 1e-3, betas: [0.5, 0.999] }), a, 9),
      adamRef(p0, 9, 3e-3, 0.5, 0.999, 1e-8, 1e-3, false), 1e-5);
    const w = param();
    assertClose(run(new T.AdamW([w], { lr: 1e-2, weightDecay: 0.1 }), w, 9),
      adamRef(p0, 9, 1e-2, 0.9, 0.999, 1e-8, 0.1, true), 1e-5);
  });

  it('saved and restored state continues the same trajectory', () => {
    for (const make of [
      (q: T.Tensor) => new T.SGD([q], { lr: 0.05, momentum: 0.9, weightDecay: 1e-3 }),
      (q: T.Tensor) => new T.Adam([q], { lr: 1e-2, weightDecay: 1e-3 }),
    ]) {
      const p = param();
      const straight = run(make(p), p, 10);
      const q = param();
      const first = make(q);
      run(first, q, 4);
      const { tensors, meta } = first.stateDict();
      const bytes = T.encodeSafetensors(tensors, { meta: JSON.stringify(meta) });
      const decoded = T.decodeSafetensors(bytes);
      const second = make(q);
      second.loadStateDict({ tensors: decoded.tensors, meta: JSON.parse(decoded.metadata.meta) });
      assertClose(run(second, q, 6), straight, 1e-6);
    }
  });

  it('validates its inputs', () => {
    assert.throws(() => new T.SGD([], { lr: 0.1 }), /no parameters/);
    assert.throws(() => new T.SGD([param()], { lr: 0.1, nesterov: true }), /nesterov needs momentum/);
    assert.throws(() => new T.Adam([param()], { lr: 0.1, betas: [1, 0.9] }), /betas must be in/);
    const sgd = new T.SGD([param()], { lr: 0.1 });
    assert.throws(() => new T.Adam([param()], { lr: 0.1 }).loadStateDict(sgd.stateDict()), /saved by SGD/);
  });
});
