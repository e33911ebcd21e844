/** Oracles shared by the tests: finite differences, closeness, seeded JS randoms. */
import * as assert from 'node:assert/strict';
import * as T from '../src/engine';

/** Deterministic JS uniform numbers (mulberry32), independent of libtorch. */
export function jsRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values in [-1, 1). */
export function randomArray(n: number, seed: number): number[] {
  const r = jsRandom(seed);
  return Array.from({ length: n }, () => 2 * r() - 1);
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5, what = 'values'): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} != ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const err = Math.abs(a - e);
    if (!(err <= tol * (1 + Math.abs(e)))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (|diff| ${err.toExponential(2)} > tol ${tol})`);
    }
  }
}

/**
 * Checks autograd against central finite differences in float64. fn maps the
 * inputs to a tensor; the scalar checked is sum(fn(inputs) * R) for a fixed
 * random R, so every output element's gradient path is exercised.
 */
export function gradcheck(
  fn: (inputs: T.Tensor[]) => T.Tensor,
  inputs: { shape: number[]; data?: number[] }[],
  { eps = 1e-6, tol = 1e-5, seed = 7 } = {},
): void {
  const values = inputs.map((x, k) => x.data ?? randomArray(x.shape.reduce((a, b) => a * b, 1), seed + k));
  let weights: number[] | null = null;
  const objective = (vals: number[][], withGrad: boolean): { value: number; grads: number[][] } =>
    T.tidy(() => {
      const ts = vals.map((v, k) => T.tensor(v, inputs[k].shape, { dtype: 'float64', requiresGrad: withGrad }));
      const out = fn(ts);
      weights ??= randomArray(out.size, seed + 100);
      const loss = T.sum(T.mul(out, T.tensor(weights, out.shape, { dtype: 'float64' })));
      if (!withGrad) return { value: loss.item(), grads: [] };
      T.backward(loss);
      const grads = ts.map((t) => {
        const g = t.grad;
        return g ? g.toArray() : new Array<number>(t.size).fill(0);
      });
      return { value: loss.item(), grads };
    });
  const analytic = objective(values, true).grads;
  values.forEach((v, k) => {
    const numeric = v.map((_, i) => {
      const plus = values.map((w) => [...w]);
      const minus = values.map((w) => [...w]);
      plus[k][i] += eps;
      minus[k][i] -= eps;
      return (objective(plus, false).value - objective(minus, false).value) / (2 * eps);
    });
    assertClose(analytic[k], numeric, tol, `gradient of input ${k}`);
  });
}

/**
 * y = f(x, w) on copies of x0 and w0 (gradients asked for as needX, needW), and
 * the gradients of sum(y * g): what a convolution test compares between two
 * formulations.
 */
export function convGrads(f: (x: T.Tensor, w: T.Tensor) => T.Tensor, x0: T.Tensor, w0: T.Tensor, g: T.Tensor, needX = true, needW = true) {
  return T.tidy(() => {
    const x = T.clone(x0).setRequiresGrad(needX);
    const w = T.clone(w0).setRequiresGrad(needW);
    const y = f(x, w);
    T.backward(T.sum(T.mul(y, g)));
    const out = { y: y.toArray(), gx: x.grad?.toArray() ?? null, gw: w.grad?.toArray() ?? null };
    T.dispose([x.grad, w.grad]);
    return out;
  });
}

/**
 * convGrads of f with both gradients asked for, then with only the weight's and only the input's:
 * the other is null, and each alone equals its value from the call with both, exactly. Returns the call with both.
 */
export function assertOnlyAskedGradients(f: (x: T.Tensor, w: T.Tensor) => T.Tensor, x: T.Tensor, w: T.Tensor, g: T.Tensor) {
  const both = convGrads(f, x, w, g);
  const onlyW = convGrads(f, x, w, g, false, true);
  const onlyX = convGrads(f, x, w, g, true, false);
  assert.equal(onlyW.gx, null);
  assert.equal(onlyX.gw, null);
  assertClose(onlyW.gw!, both.gw!, 0, 'weight gradient alone');
  assertClose(onlyX.gx!, both.gx!, 0, 'input gradient alone');
  return both;
}
