// matmul (PyTorch semantics: 1-D operands, broadcast batch dims) and linear, with backward rules.
import { checkTensor, Tensor } from '../tensor/tensor.js';
import { lowPrecision } from './autocast.js';
import { cast } from './elementwise.js';
import { sumTo } from './broadcast.js';
import { record, run1 } from './dispatch.js';
import { reshape, squeeze, transpose, unsqueeze } from './shape.js';
import { sum } from './reduce.js';

function check(value: unknown, op: string, name: string): Tensor {
  const x = checkTensor(value, op, name);
  if (x.ndim === 0) throw new RangeError(`${op}: ${name} must have at least one dim, got a scalar`);
  return x;
}

export function matmul(a: Tensor, b: Tensor): Tensor {
  check(a, 'matmul', 'a');
  check(b, 'matmul', 'b');
  [a, b] = [lowPrecision(a), lowPrecision(b)];
  if (a.ndim === 1) return squeeze(matmul(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1) return squeeze(matmul(a, unsqueeze(b, 1)), -1);
  const out = run1('matmul', [a, b]);
  return record('matmul', [a, b], out, (g) => [
    a.requiresGrad ? sumTo(run1('matmul', [g, transpose(b)]), a.shape) : null,
    b.requiresGrad ? sumTo(run1('matmul', [transpose(a), g]), b.shape) : null,
  ]);
}

/**
 * x · weightᵀ + bias, weight (out_features, in_features) as in torch.nn.functional.linear;
 * `residual` (the output's shape) is added in the same pass: linear(x, w, b, r) = r + linear(x, w, b).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, residual?: Tensor | null): Tensor {
  check(x, 'linear', 'input');
  check(weight, 'linear', 'weight');
  if (bias) check(bias, 'linear', 'bias');
  if (residual) check(residual, 'linear', 'residual');
  [x, weight] = [lowPrecision(x), lowPrecision(weight)];
  // residual: x Wᵀ + b + residual in one pass (a residual connection added in the GEMM's epilogue)
  const inputs = [x, weight, ...(bias ? [bias] : []), ...(residual ? [residual] : [])];
  const out = run1('linear', inputs, residual ? [1] : []);
  return record('linear', inputs, out, (g) => {
    const rows = (t: Tensor) => reshape(t, [-1, t.shape[t.ndim - 1]!]);
    const gx = cast(g, x.dtype);  // float32 when a float32 residual made the output so
    return [
      x.requiresGrad ? matmul(gx, weight) : null,
      weight.requiresGrad ? run1('matmul', [transpose(rows(gx)), rows(x)]) : null,
      ...(bias ? [bias.requiresGrad ? (g.ndim === 1 ? g : sum(g, [...g.shape.keys()].slice(0, -1))) : null] : []),
      ...(residual ? [residual.requiresGrad ? cast(g, residual.dtype) : null] : []),
    ];
  });
}

