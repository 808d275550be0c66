// Int8 weights inside the float modules (Linear, MultiheadAttention's in-projection): a weight that
// is quantised is replaced by int8 values of the same name plus `<name>_scale` (per output row) and,
// for static quantisation, `<prefix>input_scale`, so quantised state dicts save and load like any
// other. Float weights go through linear(); int8 ones through the int8 GEMM.
import { noGrad } from '../autograd/mode.js';
import { linear } from '../ops/matmul.js';
import { linearInt8, quantizePerChannel } from '../ops/quantize.js';
import { tensor } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';

/** Something that can switch its weights to int8 (quantizeDynamic / quantizeStatic find these). */
export interface Quantizable {
  /** activationScale > 0: static, one scale for the input; 0: per row at run time (ignored by tables) */
  quantize(activationScale?: number): void;
  readonly quantized: boolean;
  /** Products with activations (not lookup tables): set while calibrating, sees each input. */
  inputObserver?: ((x: Tensor) => void) | null;
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

/** x Wᵀ + b for a float or an int8 weight (then `scale` and the optional static `inputScale` apply). */
export function project(x: Tensor, weight: Tensor, bias: Tensor | null, scale: Tensor | null, inputScale: Tensor | null): Tensor {
  if (weight.dtype !== 'int8') return linear(x, weight, bias);
  if (!scale) throw new Error(`int8 linear: weight ${weight.shape} has no scale`);
  return linearInt8(x, { q: weight, scale }, bias, inputScale ? (inputScale.data() as Float32Array)[0]! : 0);
}
