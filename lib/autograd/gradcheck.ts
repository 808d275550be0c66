// Finite-difference gradient checking: compares autograd's gradient of sum(f(inputs) * w), for a
// fixed random w, with central differences computed in float32 on the same function.
import { backward } from './engine.js';
import { noGrad } from './mode.js';
import { tensor, randn } from '../tensor/create.js';
import { Generator } from '../tensor/random.js';
import { tidy } from '../tensor/memory.js';
import { shapeStr, Tensor } from '../tensor/tensor.js';
import { mul } from '../ops/elementwise.js';
import { sum } from '../ops/reduce.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** worst |analytic - numeric| / (atol + rtol |numeric|) over all checked elements */
  worst: number;
  message: string;
}

/** Checks d/dx of f at the given float32 inputs (those with requiresGrad). */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-2, atol = opts.atol ?? 2e-2, rtol = opts.rtol ?? 2e-2;
  return tidy(() => {
    const probe = f(...inputs);
    const w = randn(probe.shape, { generator: new Generator(opts.seed ?? 7) });
    const objective = (xs: Tensor[]) => sum(mul(f(...xs), w));
    for (const x of inputs) x.grad = null;
    backward(objective(inputs));
    let worst = 0;
    let message = 'ok';
    inputs.forEach((x, i) => {
      if (!x.requiresGrad) return;
      const analytic = x.grad ? (x.grad.data() as Float32Array) : new Float32Array(x.size);
      const base = x.data() as Float32Array;
      for (let j = 0; j < x.size; j++) {
        const at = (delta: number) =>
          noGrad(() => {
            const v = Float32Array.from(base);
            v[j] = v[j]! + delta;
            const xs = inputs.map((y, k) => (k === i ? tensor(v, { shape: x.shape, dtype: x.dtype }) : y));
            return objective(xs).item();
          });
        const numeric = (at(eps) - at(-eps)) / (2 * eps);
        const err = Math.abs(analytic[j]! - numeric) / (atol + rtol * Math.abs(numeric));
        if (err > worst) {
          worst = err;
          message = `input ${i} ${shapeStr(x.shape)} element ${j}: autograd ${analytic[j]}, finite difference ${numeric}`;
        }
      }
    });
    return { ok: worst <= 1, worst, message };
  });
}
