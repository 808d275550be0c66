// Elementwise ops with broadcasting, each with its backward rule beside it.
import { DTYPE_ID, isFloatDType, type DType } from '../tensor/dtype.js';
import { checkTensor, Tensor } from '../tensor/tensor.js';
import { full } from '../tensor/create.js';
import { sumTo } from './broadcast.js';
import { record, run1 } from './dispatch.js';

export type TensorLike = Tensor | number;

/** Casts (rounding to nearest even); differentiable between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  checkTensor(x, 'to');
  if (x.dtype === dtype) return x;
  const out = run1('copy', [x], [DTYPE_ID[dtype]]);
  if (!isFloatDType(dtype)) return out;
  return record('to', [x], out, (g) => [cast(g, x.dtype)]);
}

/** The dtype two operands are computed in: float beats integer, float32 beats the 16-bit floats. */
function promote(a: DType, b: DType): DType {
  if (a === b) return a;
  const fa = isFloatDType(a), fb = isFloatDType(b);
  if (fa !== fb) return fa ? a : b;
  return fa ? 'float32' : 'int32';
}

/** Two operands as tensors of one dtype; a number takes the tensor's dtype (float32 if fractional on an integer tensor). */
export function operands(a: TensorLike, b: TensorLike, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number') throw new TypeError(`${op}: at least one operand must be a Tensor`);
  const like = typeof a === 'number' ? checkTensor(b, op, 'other') : checkTensor(a, op);
  const scalar = (v: number) => full([], v, { dtype: isFloatDType(like.dtype) || Number.isInteger(v) ? like.dtype : 'float32', device: like.device });
  const ta = typeof a === 'number' ? scalar(a) : like;
  const tb = typeof b === 'number' ? scalar(b) : checkTensor(b, op, 'other');
  const d = promote(ta.dtype, tb.dtype);
  return [cast(ta, d), cast(tb, d)];
}

function binary(op: string, a: TensorLike, b: TensorLike, grads: (ta: Tensor, tb: Tensor, out: Tensor, g: Tensor) => [Tensor | null, Tensor | null]): Tensor {
  let [ta, tb] = operands(a, b, op);
  if (!isFloatDType(ta.dtype) && (op === 'div' || op === 'pow')) [ta, tb] = [cast(ta, 'float32'), cast(tb, 'float32')];
  const out = run1(op, [ta, tb]);
  return record(op, [ta, tb], out, (g) => {
    const [ga, gb] = grads(ta, tb, out, g);
    return [ga && ta.requiresGrad ? sumTo(ga, ta.shape) : null, gb && tb.requiresGrad ? sumTo(gb, tb.shape) : null];
  });
}

export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', a, b, (_a, _b, _o, g) => [g, g]);
}
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', a, b, (_a, tb, _o, g) => [g, tb.requiresGrad ? neg(g) : null]);
}
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', a, b, (ta, tb, _o, g) => [ta.requiresGrad ? mul(g, tb) : null, tb.requiresGrad ? mul(g, ta) : null]);
}
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', a, b, (ta, tb, out, g) => [
    ta.requiresGrad ? div(g, tb) : null,
    tb.requiresGrad ? neg(div(mul(g, out), tb)) : null,
  ]);
}
/** a ** b, elementwise. */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binary('pow', a, b, (ta, tb, out, g) => [
    ta.requiresGrad ? mul(g, mul(tb, pow(ta, sub(tb, 1)))) : null,
    tb.requiresGrad ? mul(g, mul(out, log(ta))) : null,
  ]);
}
/** Elementwise max; ties send half the gradient to each side, as in PyTorch. */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('maximum', a, b, (ta, tb, _o, g) => splitGrad(g, ta, tb, 'gt'));
}
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('minimum', a, b, (ta, tb, _o, g) => splitGrad(g, ta, tb, 'lt'));
}
function splitGrad(g: Tensor, a: Tensor, b: Tensor, cmp: 'gt' | 'lt'): [Tensor, Tensor] {
  const wins = cast(run1(cmp, [a, b]), g.dtype);
  const ties = cast(run1('eq', [a, b]), g.dtype);
  const wa = add(wins, mul(ties, 0.5));
  return [mul(g, wa), mul(g, sub(1, wa))];
}

function unary(op: string, x: Tensor, grad: (x: Tensor, y: Tensor, g: Tensor) => Tensor): Tensor {
  checkTensor(x, op);
  const y = run1(op, [x]);
  return record(op, [x], y, (g) => [grad(x, y, g)]);
}

export function neg(x: Tensor): Tensor {
  return unary('neg', x, (_x, _y, g) => neg(g));
}
export function abs(x: Tensor): Tensor {
  return unary('abs', x, (x, _y, g) => mul(g, sign(x)));
}
export function sign(x: Tensor): Tensor {
  return run1('sign', [checkTensor(x, 'sign')]);
}
export function exp(x: Tensor): Tensor {
  return unary('exp', x, (_x, y, g) => mul(g, y));
}
export function log(x: Tensor): Tensor {
  return unary('log', x, (x, _y, g) => div(g, x));
}
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x, (_x, y, g) => div(g, mul(y, 2)));
}
export function rsqrt(x: Tensor): Tensor {
  return unary('rsqrt', x, (x, y, g) => mul(g, mul(div(y, x), -0.5)));
}
export function relu(x: Tensor): Tensor {
  return unary('relu', x, (x, _y, g) => run1('relu_backward', [x, g]));
}
/** GELU: exact (erf) by default, or the tanh approximation with approximate = 'tanh'. */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  if (approximate !== 'none' && approximate !== 'tanh') throw new TypeError(`gelu: approximate must be 'none' or 'tanh', got ${approximate}`);
  const op = approximate === 'tanh' ? 'gelu_tanh' : 'gelu';
  return unary(op, x, (x, _y, g) => run1(`${op}_backward`, [x, g]));
}
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x, (_x, y, g) => run1('tanh_backward', [y, g]));
}
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', x, (_x, y, g) => run1('sigmoid_backward', [y, g]));
}

/** Clamps into [min, max]; either bound may be omitted. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  checkTensor(x, 'clamp');
  const lo = min ?? -Infinity, hi = max ?? Infinity;
  const y = run1('clamp', [x], [lo, hi]);
  return record('clamp', [x], y, (g) => [run1('clamp_backward', [x, g], [lo, hi])]);
}

function compare(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: TensorLike, b: TensorLike): Tensor {
  const [ta, tb] = operands(a, b, op);
  return run1(op, [ta, tb]);
}
export const eq = (a: TensorLike, b: TensorLike) => compare('eq', a, b);
export const ne = (a: TensorLike, b: TensorLike) => compare('ne', a, b);
export const lt = (a: TensorLike, b: TensorLike) => compare('lt', a, b);
export const le = (a: TensorLike, b: TensorLike) => compare('le', a, b);
export const gt = (a: TensorLike, b: TensorLike) => compare('gt', a, b);
export const ge = (a: TensorLike, b: TensorLike) => compare('ge', a, b);

/** cond ? a : b, elementwise with broadcasting; cond is a uint8 mask. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor(cond, 'where', 'condition');
  const [ta, tb] = operands(a, b, 'where');
  const out = run1('where', [cond, ta, tb]);
  return record('where', [ta, tb], out, (g) => {
    const zero = full([], 0, { dtype: g.dtype, device: g.device });
    return [
      ta.requiresGrad ? sumTo(run1('where', [cond, g, zero]), ta.shape) : null,
      tb.requiresGrad ? sumTo(run1('where', [cond, zero, g]), tb.shape) : null,
    ];
  });
}

/** x with `value` where mask (uint8, broadcast to x) is non-zero. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor(x, 'masked_fill');
  checkTensor(mask, 'masked_fill', 'mask');
  const out = run1('masked_fill', [x, mask], [value]);
  return record('masked_fill', [x], out, (g) => [run1('masked_fill', [g, mask], [0])]);
}
