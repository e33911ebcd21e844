/**
 * In-place updates, for parameters, buffers and optimiser state only (they
 * bypass autograd's functional view of the graph; use under noGrad()).
 */
import { callInPlace } from '../dispatch';
import { Tensor } from '../tensor';
import { expectTensor } from './validate';

/** dst <- src (shapes must match; broadcasting as torch's copy_). */
export function assign(dst: Tensor, src: Tensor): void {
  expectTensor('assign', 'dst', dst);
  expectTensor('assign', 'src', src);
  if (dst.shape.join(',') !== src.shape.join(',')) {
    throw new RangeError(`assign: shape [${src.shape}] does not match destination [${dst.shape}]`);
  }
  callInPlace('aten::copy_', [dst, src, false]);
}

export function fill(dst: Tensor, value: number): void {
  expectTensor('fill', 'dst', dst);
  callInPlace('aten::fill_.Scalar', [dst, value]);
}

/** dst <- N(mean, std^2) samples from the seeded generator. */
export function normalFill(dst: Tensor, mean: number, std: number): void {
  expectTensor('normalFill', 'dst', dst);
  callInPlace('aten::normal_', [dst, mean, std, null]);
}

/** dst <- U[low, high) samples. */
export function uniformFill(dst: Tensor, low: number, high: number): void {
  expectTensor('uniformFill', 'dst', dst);
  callInPlace('aten::uniform_', [dst, low, high, null]);
}
