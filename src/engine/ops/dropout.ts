/** Dropout: zeroes elements with probability p and rescales by 1 / (1 - p) in training. */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectTensor } from './validate';

export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  expectTensor('dropout', 'x', x);
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout: p must be in [0, 1), got ${p}`);
  return callTensor('aten::dropout', [x, p, training]);
}
