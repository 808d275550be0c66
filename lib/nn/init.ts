// Parameter initialisation as in torch.nn.init, drawn from tensorforge's Philox generator (so the
// values follow PyTorch's distributions, not its exact random numbers).
import { rand, randn, type RandomOptions } from '../tensor/create.js';
import type { Tensor } from '../tensor/tensor.js';
import { runInto } from '../ops/dispatch.js';

/** U(-bound, bound) */
export function uniform(shape: readonly number[], bound: number, opts: RandomOptions = {}): Tensor {
  return rand(shape, { ...opts, low: -bound, high: bound });
}
/** nn.Linear's default for weight and bias: kaiming_uniform(a=√5) gives U(-1/√fan_in, 1/√fan_in). */
export function linearUniform(shape: readonly number[], fanIn: number, opts: RandomOptions = {}): Tensor {
  return uniform(shape, fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0, opts);
}
/** xavier_uniform: U(-a, a), a = √(6 / (fan_in + fan_out)), for a (fan_out, fan_in) weight. */
export function xavierUniform(shape: readonly [number, number], opts: RandomOptions = {}): Tensor {
  return uniform(shape, Math.sqrt(6 / (shape[0] + shape[1])), opts);
}
/** N(0, std²), nn.Embedding's default with std 1. */
export function normal(shape: readonly number[], std = 1, opts: RandomOptions = {}): Tensor {
  return randn(shape, { ...opts, std });
}

/** Overwrites every element of t with value, outside autograd. */
export function fillInPlace(t: Tensor, value: number): Tensor {
  runInto('fill', [], [t], [value]);
  return t;
}
