// Reductions over axes (sum, mean, max, min, argmax, var) and softmax / log_softmax, with backward rules.
import { normAxis } from '../tensor/shape.js';
import { checkTensor, Tensor } from '../tensor/tensor.js';
import { record, run1 } from './dispatch.js';
import { cast, div, mul, sub } from './elementwise.js';
import { expand, transpose, unsqueeze } from './shape.js';

export type Axes = number | readonly number[] | undefined;

function axesOf(x: Tensor, axes: Axes, op: string): number[] {
  checkTensor(x, op);
  if (axes === undefined) return [...x.shape.keys()];
  const list = typeof axes === 'number' ? [axes] : [...axes];
  return list.map((a) => normAxis(a, x.ndim, op));
}

/** g (reduced over `axes`, keepdim or not) broadcast back to x's shape. */
function unreduce(g: Tensor, x: Tensor, axes: number[], keepdim: boolean): Tensor {
  let k = g;
  if (!keepdim) for (const a of [...axes].sort((p, q) => p - q)) k = unsqueeze(k, a);
  return expand(k, x.shape);
}

function groupSize(x: Tensor, axes: number[]): number {
  return axes.reduce((n, a) => n * x.shape[a]!, 1);
}

export function sum(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const ax = axesOf(x, axes, 'sum');
  const out = run1('sum', [x], [keepdim ? 1 : 0, ...ax]);
  return record('sum', [x], out, (g) => [unreduce(g, x, ax, keepdim)]);
}

export function mean(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  const ax = axesOf(x, axes, 'mean');
  const out = run1('mean', [x], [keepdim ? 1 : 0, ...ax]);
  return record('mean', [x], out, (g) => [unreduce(div(g, groupSize(x, ax)), x, ax, keepdim)]);
}

/** Variance with Bessel's correction by default (correction = 1), as torch.var. */
export function variance(x: Tensor, axes?: Axes, keepdim = false, correction = 1): Tensor {
  const ax = axesOf(x, axes, 'var');
  const out = run1('var', [x], [keepdim ? 1 : 0, correction, ...ax]);
  return record('var', [x], out, (g) => {
    const m = run1('mean', [x], [1, ...ax]);
    const scale = 2 / (groupSize(x, ax) - correction);
    return [mul(unreduce(g, x, ax, keepdim), mul(sub(x, m), scale))];
  });
}

function extreme(op: 'max' | 'min', x: Tensor, axes: Axes, keepdim: boolean): Tensor {
  const ax = axesOf(x, axes, op);
  const out = run1(op, [x], [keepdim ? 1 : 0, ...ax]);
  return record(op, [x], out, (g) => {
    // the gradient is shared evenly between tied extremes (as torch.amax/amin)
    const hit = cast(run1('eq', [x, unreduce(out, x, ax, keepdim)]), g.dtype);
    const count = run1('sum', [hit], [1, ...ax]);
    return [mul(unreduce(g, x, ax, keepdim), div(hit, count))];
  });
}
export function max(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extreme('max', x, axes, keepdim);
}
export function min(x: Tensor, axes?: Axes, keepdim = false): Tensor {
  return extreme('min', x, axes, keepdim);
}

/** Index (int32) of the first maximum along `axis`; over all elements when omitted. */
export function argmax(x: Tensor, axis?: number, keepdim = false): Tensor {
  if (axis === undefined) return run1('argmax', [x.viewOf([x.size], [1], x.offset)], [0, 0]);
  const [a] = axesOf(x, axis, 'argmax');
  return run1('argmax', [x], [keepdim ? 1 : 0, a!]);
}

function lastAxis(x: Tensor, axis: number, op: string, fn: (t: Tensor) => Tensor): Tensor {
  const a = axesOf(x, axis, op)[0]!;
  if (a === x.ndim - 1) return fn(x);
  return transpose(fn(transpose(x, a, -1)), a, -1);
}

export function softmax(x: Tensor, axis = -1): Tensor {
  return lastAxis(x, axis, 'softmax', (t) => {
    const y = run1('softmax', [t]);
    return record('softmax', [t], y, (g) => [run1('softmax_backward', [y, g])]);
  });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return lastAxis(x, axis, 'log_softmax', (t) => {
    const y = run1('log_softmax', [t]);
    return record('log_softmax', [t], y, (g) => [run1('log_softmax_backward', [y, g])]);
  });
}
