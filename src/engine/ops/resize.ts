/** Spatial resizing of NCHW tensors. */
import { callTensor } from '../dispatch';
import { Tensor } from '../tensor';
import { expectRank, pair } from './validate';

/**
 * Bilinear interpolation to size [H, W]. alignCorners maps corner pixel
 * centres onto each other (the released Auto-DeepLab's x2 upsampling);
 * off, pixels are treated as areas (torch's default).
 */
export function resizeBilinear(x: Tensor, size: [number, number], alignCorners: boolean): Tensor {
  expectRank('resizeBilinear', 'x', x, 4);
  const s = pair('resizeBilinear', 'size', size, 1);
  return callTensor('aten::upsample_bilinear2d', [x, s, alignCorners, null, null]);
}

/** Nearest-neighbour resizing (label maps). */
export function resizeNearest(x: Tensor, size: [number, number]): Tensor {
  expectRank('resizeNearest', 'x', x, 4);
  return callTensor('aten::upsample_nearest2d', [x, pair('resizeNearest', 'size', size, 1), null, null]);
}
