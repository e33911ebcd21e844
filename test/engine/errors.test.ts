/** libtorch failures become JS Errors with torch's message; the process lives on. */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as T from '../../src/engine';
import { callTensor } from '../../src/engine/dispatch';

describe('native errors', () => {
  it('a shape mismatch inside a kernel is a JS Error naming the op and the shapes', () => {
    // Bypass TypeScript validation to reach libtorch's own check.
    assert.throws(() => callTensor('aten::mm', [T.ones([2, 3]), T.ones([2, 3])]),
      (e: Error) => /aten::mm \(self=\[2, 3\]:Float, mat2=\[2, 3\]:Float\): mat1 and mat2 shapes cannot be multiplied/.test(e.message));
  });

  it('a bad dtype and an index out of range are JS Errors', () => {
    assert.throws(() => callTensor('aten::conv2d', [T.ones([1, 1, 3, 3], { dtype: 'int64' }), T.ones([1, 1, 1, 1])]), /aten::conv2d/);
    assert.throws(() => T.indexSelect(T.ones([3]), 0, T.tensor([7], [1], { dtype: 'int64' })), /out of range|index/i);
    assert.throws(() => callTensor('aten::narrow', [T.ones([3]), 0, 2, 5]), /aten::narrow/);
  });

  it('unknown operators, missing arguments and disposed tensors are errors', () => {
    assert.throws(() => callTensor('aten::no_such_op', []), /no operator aten::no_such_op/);
    assert.throws(() => callTensor('aten::relu', []), /missing required argument 'self'/);
    const x = T.ones([2]);
    x.dispose();
    assert.throws(() => T.relu(x), /already disposed/);
    assert.throws(() => callTensor('aten::relu', [123456789]), /not live/);
  });

  it('backward on a non-scalar without seeds is an error, not an abort', () => {
    const x = T.ones([3], { requiresGrad: true });
    assert.throws(() => T.backward(T.mul(x, 2)), /backward: .*scalar/);
    assert.throws(() => T.ones([2], { dtype: 'int64' }).setRequiresGrad(true), /setRequiresGrad: .*floating point/);
  });

  it('the engine still works after all of these', () => {
    assert.deepEqual(T.add(T.ones([2]), 1).toArray(), [2, 2]);
  });
});
