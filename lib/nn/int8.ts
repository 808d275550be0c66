// Int8 weights inside the float modules (Linear, MultiheadAttention's in-projection): a weight that
// is quantised is replaced by int8 values of the same name plus `<name>_scale` (per output row) and,
// for static quantisation, `<prefix>input_scale`, so quantised state dicts save and load like any
// other. Float weights go through linear(); int8 ones through the int8 GEMM.
import { noGrad } from '../autograd/mode.js';
import { add, cast, gelu, mul, relu, sub } from '../ops/elementwise.js';
import { linear } from '../ops/matmul.js';
import { reshape } from '../ops/shape.js';
import { linearInt8, quantizePerChannel, type LinearInt8Options } from '../ops/quantize.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** Something that can switch its weights to int8 (quantizeDynamic / quantizeStatic find these). */
export interface Quantizable {
  /** activationScale > 0: static, one scale for the input; 0: per row at run time (ignored by tables) */
  quantize(activationScale?: number): void;
  readonly quantized: boolean;
  /** Products with activations (not lookup tables): set while calibrating, sees each input. */
  inputObserver?: ((x: Tensor) => void) | null;
  /** Quantisation-aware training: forward with the values int8 would give (weights and inputs). */
  fakeQuant: boolean;
}

export function isQuantizable(m: object): m is Quantizable {
  return typeof (m as Partial<Quantizable>).quantize === 'function' && 'quantized' in m;
}

/** The buffers that replace a float weight [N, K]: int8 values, scales, and the static input scale. */
export function int8Buffers(weight: Tensor, weightName: string, inputScaleName: string, activationScale: number): Map<string, Tensor | null> {
  if (!(activationScale >= 0) || !Number.isFinite(activationScale)) {
    throw new RangeError(`quantize: activation scale must be finite and >= 0 (0: dynamic), got ${activationScale}`);
  }
  const { q, scale } = noGrad(() => quantizePerChannel(weight));
  return new Map([
    [weightName, q],
    [`${weightName}_scale`, scale],
    [inputScaleName, activationScale > 0 ? tensor(new Float32Array([activationScale]), { shape: [1] }) : null],
  ]);
}

/**
 * The values int8 would give (rows quantised as the int8 kernels do: symmetric, max |row| / 127),
 * with the gradient of the identity (the straight-through estimator).
 */
export function fakeQuantize(x: Tensor): Tensor {
  const K = x.shape[x.ndim - 1]!;
  const delta = noGrad(() => {
    const { q, scale } = quantizePerChannel(reshape(x, [-1, K]));
    const deq = reshape(mul(cast(q, 'float32'), reshape(scale, [-1, 1])), x.shape);
    return cast(sub(deq, x), x.dtype);
  });
  return add(x, delta);
}

/**
 * x Wᵀ + b (+ residual) for a float or an int8 weight (then `scale` and the optional static
 * `inputScale` apply); `fake`: float weights, with input and weight fake-quantised
 * (quantisation-aware training). `opts`: an activation after the bias and a bfloat16 output, in
 * the int8 GEMM's own pass (after a float one: the same ops, one after the other).
 */
export function project(
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null,
  scale: Tensor | null,
  inputScale: Tensor | null,
  fake = false,
  residual: Tensor | null = null,
  opts: LinearInt8Options = {},
): Tensor {
  if (weight.dtype === 'int8') {
    if (!scale) throw new Error(`int8 linear: weight ${weight.shape} has no scale`);
    return linearInt8(x, { q: weight, scale }, bias, inputScale ? (inputScale.data() as Float32Array)[0]! : 0, residual, opts);
  }
  if (opts.activation && residual) throw new Error('project: an activation and a residual together: which comes first is not defined');
  let y = fake ? linear(fakeQuantize(x), fakeQuantize(weight), bias, residual) : linear(x, weight, bias, residual);
  if (opts.activation) y = opts.activation === 'gelu' ? gelu(y) : relu(y);
  return opts.outDtype === 'bfloat16' && y.dtype !== 'bfloat16' ? cast(y, 'bfloat16') : y;
}
