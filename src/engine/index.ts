/**
 * autodeeplab's tensor engine: libtorch through a native addon, typed here.
 * @example
 *   import * as T from './engine';
 *   const y = T.tidy(() => T.relu(T.conv2d(x, w, { padding: 1 })));
 */
export { Tensor } from './tensor';
export { DType, DTYPES, TypedArray } from './dtype';
export { tidy, dispose, scopeDepth, TensorContainer } from './scope';
export * from './runtime';
export * from './autograd';
export * from './ops/creation';
export * from './ops/shape';
export * from './ops/elementwise';
export * from './ops/reduce';
export * from './ops/activation';
export * from './ops/conv';
export * from './ops/same_conv';
export * from './ops/depthwise';
export * from './ops/pointwise';
export * from './ops/norm';
export * from './ops/pool';
export * from './ops/resize';
export * from './ops/dropout';
export * from './ops/loss';
export * from './ops/linalg';
export * from './ops/inplace';
export { Optimizer, OptimizerState } from './optim/optimizer';
export { SGD, SGDOptions } from './optim/sgd';
export { Adam, AdamW, AdamOptions } from './optim/adam';
export * from './safetensors';
export { schemaOf } from './dispatch';
export * as dist from './distributed';
