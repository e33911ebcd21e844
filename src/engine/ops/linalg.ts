/** Matrix products. */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectTensor } from './validate';

/** Matrix product with batching and broadcasting, as torch.matmul. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  expectTensor('matmul', 'a', a);
  expectTensor('matmul', 'b', b);
  const k1 = a.shape[a.rank - 1];
  const k2 = b.rank === 1 ? b.shape[0] : b.shape[b.rank - 2];
  if (a.rank === 0 || b.rank === 0 || k1 !== k2) {
    throw new RangeError(`matmul: shapes [${a.shape}] and [${b.shape}] cannot be multiplied (inner sizes ${k1} and ${k2})`);
  }
  return callTensor('aten::matmul', [a, b]);
}
