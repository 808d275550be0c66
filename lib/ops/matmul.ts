// matmul (PyTorch semantics: 1-D operands, broadcast batch dims) and linear, with backward rules.
import { checkTensor, Tensor } from '../tensor/tensor.js';
import { lowPrecision } from './autocast.js';
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

/** x · weightᵀ + bias, weight (out_features, in_features) as in torch.nn.functional.linear. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  check(x, 'linear', 'input');
  check(weight, 'linear', 'weight');
  if (bias) check(bias, 'linear', 'bias');
  [x, weight] = [lowPrecision(x), lowPrecision(weight)];
  const inputs = bias ? [x, weight, bias] : [x, weight];
  const out = run1('linear', inputs);
  return record('linear', inputs, out, (g) => {
    const rows = (t: Tensor) => reshape(t, [-1, t.shape[t.ndim - 1]!]);
    return [
      x.requiresGrad ? matmul(g, weight) : null,
      weight.requiresGrad ? run1('matmul', [transpose(rows(g)), rows(x)]) : null,
      bias?.requiresGrad ? (g.ndim === 1 ? g : sum(g, [...g.shape.keys()].slice(0, -1))) : null,
    ];
  });
}

