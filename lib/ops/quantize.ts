// Int8 ops for quantised inference (no autograd): symmetric per-output-channel weight quantisation
// and a linear layer on int8 weights whose activations are quantised per row at run time
// (dynamic) or with one calibrated scale (static). The rule is native/include/tensorforge/qgemm.h's.
import { checkTensor, type Tensor } from '../tensor/tensor.js';
import { run, run1 } from './dispatch.js';

export interface QuantizedWeight {
  /** int8 [out_features, in_features] */
  q: Tensor;
  /** float32 [out_features]: weight ≈ q * scale[row] */
  scale: Tensor;
}

/** Weight [N, K] → int8 values and one scale per output row (max |w| / 127). */
export function quantizePerChannel(weight: Tensor): QuantizedWeight {
  checkTensor(weight, 'quantize_per_channel', 'weight');
  const [q, scale] = run('quantize_per_channel', [weight]);
  return { q: q!, scale: scale! };
}

export interface LinearInt8Options {
  /** float32 (default), or bfloat16: rounded in the GEMM's own pass */
  outDtype?: 'float32' | 'bfloat16';
  /** applied after the bias in the same pass (not with a residual); gelu: the exact (erf) form */
  activation?: 'relu' | 'gelu' | null;
}

/**
 * x · dequant(weight)ᵀ + bias with int8 arithmetic: x's rows are quantised symmetrically (to
 * max |row| / 127, or to `activationScale` when it is > 0), multiplied in int32, and scaled back;
 * `residual` (the output's shape) is added in the same pass.
 */
export function linearInt8(
  x: Tensor,
  weight: QuantizedWeight,
  bias?: Tensor | null,
  activationScale = 0,
  residual?: Tensor | null,
  opts: LinearInt8Options = {},
): Tensor {
  checkTensor(x, 'linear_int8', 'input');
  checkTensor(weight.q, 'linear_int8', 'weight');
  checkTensor(weight.scale, 'linear_int8', 'weight scale');
  if (bias) checkTensor(bias, 'linear_int8', 'bias');
  if (residual) checkTensor(residual, 'linear_int8', 'residual');
  const outDtype = opts.outDtype ?? 'float32', activation = opts.activation ?? null;
  if (outDtype !== 'float32' && outDtype !== 'bfloat16') throw new TypeError(`linear_int8: outDtype must be float32 or bfloat16, got ${outDtype}`);
  const act = activation === null ? 0 : activation === 'relu' ? 1 : activation === 'gelu' ? 2 : -1;
  if (act < 0) throw new TypeError(`linear_int8: activation must be relu, gelu or null, got ${activation}`);
  const inputs = [x, weight.q, weight.scale, ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  const attrs = [activationScale, residual ? 1 : 0, outDtype === 'bfloat16' ? 1 : 0, act];
  while (attrs.length > 1 && attrs[attrs.length - 1] === 0) attrs.pop();  // the shortest form the op takes
  return run1('linear_int8', inputs, attrs);
}
