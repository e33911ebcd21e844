/**
 * Training-mode batch norm on the addon's adl::batch_norm_train (native/src/batch_norm.cc: the per-channel
 * statistics summed several channels at a time) against libtorch's aten::batch_norm called directly: the same
 * output, running statistics and gradients (input, weight, bias; second derivatives too) bit for bit.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { callTensor } from '../../src/engine/dispatch';

interface Case { x: T.Tensor; weight: T.Tensor | null; bias: T.Tensor | null; momentum: number }

/** Output, updated running statistics, and the gradients of sum(y * g) + sum(x * x) (a second use of x). */
function run(c: Case, g: T.Tensor, own: boolean) {
  return T.tidy(() => {
    const C = c.x.shape[1];
    const runningMean = T.mul(T.arange(0, C, 1, { dtype: c.x.dtype }), 0.25);
    const runningVar = T.add(T.mul(T.arange(0, C, 1, { dtype: c.x.dtype }), 0.5), 1);
    const x = T.clone(c.x).setRequiresGrad();
    const weight = c.weight ? T.clone(c.weight).setRequiresGrad() : null;
    const bias = c.bias ? T.clone(c.bias).setRequiresGrad() : null;
    const args = [x, weight, bias, runningMean, runningVar];
    const y = own ? callTensor('adl::batch_norm_train', [...args, c.momentum, 1e-5])
      : callTensor('aten::batch_norm', [...args, true, c.momentum, 1e-5, true]);
    const loss = T.add(T.sum(T.mul(y, g)), T.sum(T.mul(x, x)));
    const wrt = [x, ...(weight ? [weight] : []), ...(bias ? [bias] : [])];
    const grads = T.grad(loss, wrt);
    return { y: y.toArray(), rm: runningMean.toArray(), rv: runningVar.toArray(), grads: grads.map((t) => t!.toArray()) };
  });
}

function assertSameBits(got: number[], want: number[], what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const i = got.findIndex((v, j) => !Object.is(v, want[j]));
  assert.equal(i, -1, `${what}: element ${i} is ${got[i]}, libtorch's ${want[i]}`);
}

/**
 * Values around an offset (the variance sum then rounds in every term), constant channels, whole numbers (ties),
 * or magnitudes from 1e17 to 0.25 that cancel (a channel's sum, and so its mean, then depends on the order of its
 * terms: a test that the order is libtorch's).
 */
type Kind = 'offset' | 'constant' | 'ties' | 'wide';
const WIDE = [1, 1e17, -1e17, 0.25, 0.5, -3e16, 3e16, 2];
function input(kind: Kind, shape: number[], dtype: 'float32' | 'float64'): T.Tensor {
  if (kind === 'offset') return T.add(T.mul(T.randn(shape, { dtype }), 3), 100);
  const n = shape.reduce((a, b) => a * b, 1);
  const per = n / (shape[0] * shape[1]);
  const value = (i: number) => (kind === 'ties' ? (i * 7919) % 5 : kind === 'wide' ? WIDE[i % WIDE.length] : Math.floor(i / per) % shape[1] * 0.1);
  return T.tensor(Array.from({ length: n }, (_, i) => value(i)), shape, { dtype });
}

// 4 channels at a time: blocks and remainders; maps of one pixel (libtorch's statistics), 2-D and 3-D inputs.
const SHAPES = [[2, 8, 4, 4], [4, 24, 16, 16], [1, 5, 3, 7], [2, 13, 2, 2], [3, 17, 1, 1], [2, 3, 5], [6, 9], [1, 1, 1, 2], [2, 11, 33, 1]];

describe('batchNorm in training (adl::batch_norm_train)', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: output, running statistics and gradients equal aten::batch_norm's bit for bit`, () => {
      for (const shape of SHAPES) for (const kind of ['offset', 'constant', 'ties', 'wide'] as const) for (const affine of [0, 1, 2]) {
        T.manualSeed(shape.reduce((a, b) => a * 31 + b, affine));
        const C = shape[1];
        const c: Case = {
          x: input(kind, shape, dtype),
          weight: affine > 0 ? T.uniform([C], 0.5, 1.5, { dtype }) : null,
          bias: affine > 1 ? T.randn([C], { dtype }) : null,
          momentum: affine === 1 ? 0 : 0.1,
        };
        const g = T.randn(shape, { dtype });
        const want = run(c, g, false);
        const got = run(c, g, true);
        const what = `${kind} [${shape}] affine ${affine}`;
        assertSameBits(got.y, want.y, `${what} output`);
        assertSameBits(got.rm, want.rm, `${what} running mean`);
        assertSameBits(got.rv, want.rv, `${what} running variance`);
        assert.equal(got.grads.length, want.grads.length);
        got.grads.forEach((gr, i) => assertSameBits(gr, want.grads[i], `${what} gradient ${i}`));
        T.dispose([c.x, g, ...(c.weight ? [c.weight] : []), ...(c.bias ? [c.bias] : [])]);
      }
    });
  }

  it('a non-contiguous input and a strided weight take libtorch\'s path inside the op, with the same results', () => {
    T.manualSeed(3);
    const x = T.transpose(T.randn([2, 6, 5, 4]), 2, 3);
    const weight = T.narrow(T.uniform([12]), 0, 0, 6);
    const wStrided = T.reshape(T.transpose(T.reshape(T.uniform([12]), [6, 2]), 0, 1), [12]);
    const g = T.randn([2, 6, 4, 5]);
    for (const w of [weight, T.narrow(wStrided, 0, 0, 6)]) {
      const c: Case = { x, weight: w, bias: null, momentum: 0.1 };
      const want = run(c, g, false);
      const got = run(c, g, true);
      assertSameBits(got.y, want.y, 'output');
      assertSameBits(got.rv, want.rv, 'running variance');
      got.grads.forEach((gr, i) => assertSameBits(gr, want.grads[i], `gradient ${i}`));
    }
    T.dispose([x, weight, wStrided, g]);
  });

  it('second derivatives equal libtorch\'s', () => {
    T.setDefaultFloatDType('float64');
    try {
      T.manualSeed(5);
      const x0 = T.randn([3, 4, 3, 2]);
      const w0 = T.uniform([4], 0.5, 1.5);
      const v = T.randn([3, 4, 3, 2]);
      const second = (own: boolean) => T.tidy(() => {
        const x = T.clone(x0).setRequiresGrad();
        const w = T.clone(w0).setRequiresGrad();
        const args = [x, w, null, T.zeros([4]), T.ones([4])];
        const y = own ? callTensor('adl::batch_norm_train', [...args, 0.1, 1e-5]) : callTensor('aten::batch_norm', [...args, true, 0.1, 1e-5, true]);
        const [gx] = T.grad(T.sum(T.mul(T.mul(y, y), v)), [x], { createGraph: true });
        return T.grad(T.sum(T.mul(gx!, v)), [x, w]).map((t) => t!.toArray());
      });
      const want = second(false);
      const got = second(true);
      got.forEach((gr, i) => assertSameBits(gr, want[i], `second derivative ${i}`));
      T.dispose([x0, w0, v]);
    } finally {
      T.setDefaultFloatDType('float32');
    }
  });

  it('T.batchNorm routes training on the CPU to the op, and leaves evaluation, routing off and empty inputs to aten', () => {
    const count = T.memory().numTensors;
    T.manualSeed(9);
    const x = T.randn([2, 10, 3, 3]);
    const stats = () => ({ runningMean: T.zeros([10]), runningVar: T.ones([10]) });
    const s1 = stats();
    const s2 = stats();
    const routed = T.batchNorm(x, { ...s1, training: true });
    T.setBatchNormRouting(false);
    let plain: T.Tensor;
    try {
      plain = T.batchNorm(x, { ...s2, training: true });
    } finally {
      T.setBatchNormRouting(true);
    }
    assertSameBits(routed.toArray(), plain.toArray(), 'routed output');
    assertSameBits(s1.runningVar.toArray(), s2.runningVar.toArray(), 'routed running variance');
    const s3 = stats();
    const none = T.zeros([0, 10, 3, 3]);
    const empty = T.batchNorm(none, { ...s3, training: true });
    assert.deepEqual(empty.shape, [0, 10, 3, 3]);
    const evaluated = T.batchNorm(x, { ...s1, training: false });
    assert.deepEqual(evaluated.shape, [2, 10, 3, 3]);
    T.dispose([x, routed, plain, none, empty, evaluated, ...[s1, s2, s3].flatMap((s) => [s.runningMean, s.runningVar])]);
    assert.equal(T.memory().numTensors, count, 'live tensors');
  });

  it('refuses inputs without channels and per-channel tensors of another length, and leaves empty inputs to aten', () => {
    assert.throws(() => callTensor('adl::batch_norm_train', [T.ones([4]), null, null, T.zeros([4]), T.ones([4]), 0.1, 1e-5]), /batch_norm_train: the input must be \(B, C, \.\.\.\)/);
    const x = T.randn([2, 3, 4, 4]);
    const [three, one] = [T.ones([3]), T.ones([1])];
    const cases: [string, (T.Tensor | null)[]][] = [['weight', [one, null, three, three]], ['bias', [null, one, three, three]],
      ['running_mean', [null, null, one, three]], ['running_var', [null, null, three, T.ones([4])]]];
    for (const [name, [w, b, rm, rv]] of cases) {
      assert.throws(() => callTensor('adl::batch_norm_train', [x, w, b, rm, rv, 0.1, 1e-5]), new RegExp(`batch_norm_train: ${name} must have 3 elements`));
    }
    for (const shape of [[0, 3, 4, 4], [2, 0, 4, 4]]) {
      const c = shape[1];
      const y = callTensor('adl::batch_norm_train', [T.zeros(shape), null, null, T.zeros([c]), T.ones([c]), 0.1, 1e-5]);
      assert.deepEqual(y.shape, shape);
    }
    assert.throws(() => T.batchNorm(T.ones([4]), { training: true }), /batchNorm/);
  });
});
