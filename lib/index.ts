// tensorforge: tensors, autograd, kernels and layers for Transformer encoders, from TypeScript.
import './ops/methods.js';

export { Tensor, type NestedArray, type GradFn } from './tensor/tensor.js';
export { DTYPES, type DType } from './tensor/dtype.js';
export { tensor, empty, zeros, ones, full, zerosLike, onesLike, arange, eye, rand, randn, randint } from './tensor/create.js';
export type { CreateOptions, RandomOptions } from './tensor/create.js';
export { Generator, defaultGenerator, manualSeed, type GeneratorState } from './tensor/random.js';
export { tidy, keep } from './tensor/memory.js';
export { withBackend, currentBackend } from './tensor/backend.js';
export { noGrad, isGradEnabled } from './autograd/mode.js';
export { backward } from './autograd/engine.js';
export { gradcheck, type GradcheckOptions, type GradcheckResult } from './autograd/gradcheck.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/shape.js';
export * from './ops/matmul.js';
export * from './ops/nn.js';
export { native, loaded as addon, type NativeInfo } from './native.js';
