// Gradient clipping by global norm (torch.nn.utils.clip_grad_norm_): scales every gradient by
// maxNorm / (norm + 1e-6) when the norm of all gradients together exceeds maxNorm.
import { runInto } from '../ops/dispatch.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';
import { full } from '../tensor/create.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

/** Sum of squares of every gradient, as a float64 number. */
export function gradSquaredNorm(params: readonly Tensor[]): number {
  return tidy(() => params.reduce((s, p) => (p.grad ? s + sum(mul(p.grad, p.grad)).item() : s), 0));
}

/** Scales every gradient in place by `factor`. */
export function scaleGrads(params: readonly Tensor[], factor: number): void {
  tidy(() => {
    for (const p of params) if (p.grad) runInto('mul', [p.grad, full([], factor, { dtype: p.grad.dtype, device: p.grad.device })], [p.grad]);
  });
}

/** Clips in place; returns the total norm before clipping (Infinity/NaN when a gradient is not finite). */
export function clipGradNorm(params: readonly Tensor[], maxNorm: number): number {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be > 0, got ${maxNorm}`);
  const norm = Math.sqrt(gradSquaredNorm(params));
  const coef = maxNorm / (norm + 1e-6);
  if (coef < 1) scaleGrads(params, coef);
  return norm;
}
