import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { assertClose } from '../helpers';

describe('autograd', () => {
  it('backward accumulates d(sum(x^2 * y))/dx = 2xy into .grad', () => {
    const x = T.tensor([1, 2, 3], [3], { requiresGrad: true });
    const y = T.tensor([4, 5, 6]);
    const loss = () => T.sum(T.mul(T.mul(x, x), y));
    T.backward(loss());
    assertClose(x.grad!.toArray(), [8, 20, 36]);
    T.backward(loss());
    assertClose(x.grad!.toArray(), [16, 40, 72], 1e-6, 'accumulated');
    x.zeroGrad();
    assert.equal(x.grad, null);
    assert.equal(y.grad, null);
  });

  it('grad() returns gradients without touching .grad, and can build a graph of them', () => {
    const x = T.tensor([2], [1], { requiresGrad: true });
    const y = T.mul(T.mul(x, x), x); // x^3
    const [dy] = T.grad(y, [x], { createGraph: true });
    assertClose(dy!.toArray(), [12]);
    const [d2y] = T.grad(dy!, [x]);
    assertClose(d2y!.toArray(), [12]); // 6x
    assert.equal(x.grad, null);
  });

  it('noGrad records no graph; requiresGrad flags and leaves are reported', () => {
    const x = T.ones([2], { requiresGrad: true });
    assert.equal(x.requiresGrad, true);
    assert.equal(x.isLeaf, true);
    const y = T.noGrad(() => T.mul(x, 2));
    assert.equal(y.requiresGrad, false);
    assert.equal(T.isGradEnabled(), true);
    const z = T.mul(x, 2);
    assert.equal(z.requiresGrad, true);
    assert.equal(z.isLeaf, false);
  });

  it('unused inputs are an error unless allowed', () => {
    const a = T.ones([1], { requiresGrad: true });
    const b = T.ones([1], { requiresGrad: true });
    assert.throws(() => T.grad(T.mul(a, 3), [a, b], { retainGraph: true }), /grad: .*(not have been used|unused)/i);
    const [ga, gb] = T.grad(T.mul(a, 3), [a, b], { allowUnused: true });
    assertClose(ga!.toArray(), [3]);
    assert.equal(gb, null);
  });
});
