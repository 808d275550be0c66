// Mixed precision, as torch.autocast: inside autocast('bfloat16' | 'float16', fn), matmuls, linear
// layers and attention cast their float32 inputs (weights included) to the low-precision dtype and
// produce low-precision outputs; LayerNorm, softmax statistics and losses run in float32. The
// parameters stay float32: the casts are recorded, so their gradients arrive in float32.
import type { DType } from '../tensor/dtype.js';
import type { Tensor } from '../tensor/tensor.js';
import { cast } from './elementwise.js';

let current: DType | null = null;

export function autocastDtype(): DType | null {
  return current;
}

export function autocast<T>(dtype: 'bfloat16' | 'float16' | null, fn: () => T): T {
  if (dtype !== null && dtype !== 'bfloat16' && dtype !== 'float16') throw new TypeError(`autocast: dtype must be bfloat16 or float16, got ${dtype}`);
  const prev = current;
  current = dtype;
  try {
    return fn();
  } finally {
    current = prev;
  }
}

/** Inputs of a low-precision op: float tensors cast to the autocast dtype (unchanged outside autocast). */
export function lowPrecision(x: Tensor): Tensor {
  return current && x.dtype !== current && x.dtype === 'float32' ? cast(x, current) : x;
}

/** Inputs of a float32 op (LayerNorm, losses): 16-bit floats widened to float32. */
export function fullPrecision(x: Tensor): Tensor {
  return x.dtype === 'bfloat16' || x.dtype === 'float16' ? cast(x, 'float32') : x;
}
