/** Normalised exponentials. */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectTensor, normDim } from './validate';

/** exp(x) / sum(exp(x)) along dim. */
export function softmax(x: Tensor, dim = -1): Tensor {
  expectTensor('softmax', 'x', x);
  return callTensor('aten::softmax.int', [x, normDim('softmax', dim, x.rank), null]);
}

/** x - logsumexp(x) along dim. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  expectTensor('logSoftmax', 'x', x);
  return callTensor('aten::log_softmax.int', [x, normDim('logSoftmax', dim, x.rank), null]);
}
