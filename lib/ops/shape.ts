// Views (reshape, permute, transpose, slice, expand, squeeze, unsqueeze) that share the input's
// buffer, and the copies built from them (contiguous, concat, stack, split). Each with its backward.
import { noGrad } from '../autograd/mode.js';
import { empty, zeros } from '../tensor/create.js';
import { checkShape, normAxis } from '../tensor/shape.js';
import { checkTensor, contiguousStrides, numelOf, shapeStr, Tensor } from '../tensor/tensor.js';
import { sumTo } from './broadcast.js';
import { record, run1, runInto } from './dispatch.js';

/** A contiguous copy (or x itself when already contiguous). */
export function contiguous(x: Tensor): Tensor {
  checkTensor(x, 'contiguous');
  if (x.isContiguous()) return x;
  const out = run1('copy', [x]);
  return record('contiguous', [x], out, (g) => [g]);
}

/** Same data, new shape; one size may be -1. Copies only when the strides cannot express it. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, 'reshape');
  if (!Array.isArray(shape)) throw new TypeError('reshape: shape must be an array');
  const s = [...shape];
  const free = s.indexOf(-1);
  if (free >= 0) {
    if (s.indexOf(-1, free + 1) >= 0) throw new RangeError(`reshape: only one size may be -1 in ${shapeStr(s)}`);
    const known = numelOf(s.filter((_, i) => i !== free));
    if (known === 0 || x.size % known !== 0) throw new RangeError(`reshape: cannot infer -1 in ${shapeStr(s)} for ${x.size} elements`);
    s[free] = x.size / known;
  }
  checkShape(s, 'reshape');
  if (numelOf(s) !== x.size) throw new RangeError(`reshape: shape ${shapeStr(s)} does not hold the ${x.size} elements of ${shapeStr(x.shape)}`);
  const strides = viewStrides(x.shape, x.strides, s);
  if (strides) return record('reshape', [x], x.viewOf(s, strides, x.offset), (g) => [reshape(g, x.shape)]);
  const src = contiguous(x);
  const out = src.viewOf(s, contiguousStrides(s), src.offset);
  return record('reshape', [src], out, (g) => [reshape(g, src.shape)]);
}

/**
 * Strides that show a tensor of `shape`/`strides` as `target` without moving data, or null when
 * none do (as PyTorch's view): each run of dims that is contiguous in memory may be split or merged.
 */
function viewStrides(shape: readonly number[], strides: readonly number[], target: readonly number[]): number[] | null {
  if (shape.length === 0 || numelOf(shape) === 0) return contiguousStrides(target);
  const out = new Array<number>(target.length);
  let t = target.length - 1;
  let base = strides[shape.length - 1]!, runNumel = 1, viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    runNumel *= shape[d]!;
    // the run of contiguous dims ends at d: give it the target dims of the same element count
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== runNumel * base)) {
      while (t >= 0 && (viewNumel < runNumel || target[t] === 1)) {
        out[t] = viewNumel * base;
        viewNumel *= target[t]!;
        t--;
      }
      if (viewNumel !== runNumel) return null;
      if (d > 0) {
        base = strides[d - 1]!;
        runNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return t === -1 ? out : null;
}
export const view = reshape;

export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  const r = Math.max(checkTensor(x, 'flatten').ndim, 1);
  const a = normAxis(startDim, r, 'flatten'), b = normAxis(endDim, r, 'flatten');
  if (x.ndim === 0) return reshape(x, [1]);
  return reshape(x, [...x.shape.slice(0, a), numelOf(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)]);
}

export function permute(x: Tensor, dims: readonly number[]): Tensor {
  checkTensor(x, 'permute');
  if (!Array.isArray(dims) || dims.length !== x.ndim) throw new RangeError(`permute: need ${x.ndim} dims for ${shapeStr(x.shape)}, got ${JSON.stringify(dims)}`);
  const d = dims.map((a) => normAxis(a, x.ndim, 'permute'));
  if (new Set(d).size !== d.length) throw new RangeError(`permute: repeated dim in ${JSON.stringify(dims)}`);
  const out = x.viewOf(d.map((i) => x.shape[i]!), d.map((i) => x.strides[i]!), x.offset);
  const inverse = new Array<number>(d.length);
  d.forEach((from, to) => (inverse[from] = to));
  return record('permute', [x], out, (g) => [permute(g, inverse)]);
}

export function transpose(x: Tensor, dim0 = -2, dim1 = -1): Tensor {
  checkTensor(x, 'transpose');
  const a = normAxis(dim0, x.ndim, 'transpose'), b = normAxis(dim1, x.ndim, 'transpose');
  const dims = [...x.shape.keys()];
  [dims[a], dims[b]] = [dims[b]!, dims[a]!];
  return permute(x, dims);
}

/** x[start:end:step] along one axis, as a view (negative start/end count from the end). */
export function slice(x: Tensor, axis: number, start = 0, end?: number, step = 1): Tensor {
  checkTensor(x, 'slice');
  const a = normAxis(axis, x.ndim, 'slice');
  const n = x.shape[a]!;
  if (!Number.isInteger(step) || step <= 0) throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  if (!Number.isInteger(start) || (end !== undefined && !Number.isInteger(end))) throw new RangeError(`slice: start and end must be integers`);
  const clampIdx = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = clampIdx(start), e = Math.max(s, clampIdx(end ?? n));
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  shape[a] = len;
  const strides = [...x.strides];
  strides[a] = x.strides[a]! * step;
  const out = x.viewOf(shape, strides, x.offset + (len > 0 ? s * x.strides[a]! : 0));
  return record('slice', [x], out, (g) => {
    const gx = zeros(x.shape, { dtype: g.dtype, device: g.device });
    runInto('copy', [g], [slice(gx, a, s, e, step)]);
    return [gx];
  });
}

/** Broadcast view to a larger shape (-1 keeps a size), as torch.expand. */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor(x, 'expand');
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new RangeError(`expand: cannot expand ${shapeStr(x.shape)} to fewer dims ${shapeStr(shape)}`);
  const s = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead]! : d));
  checkShape(s, 'expand');
  const strides = s.map((d: number, i: number) => {
    if (i < lead) return 0;
    const own = x.shape[i - lead]!;
    if (own === d) return x.strides[i - lead]!;
    if (own === 1) return 0;
    throw new RangeError(`expand: cannot expand ${shapeStr(x.shape)} to ${shapeStr(s)}`);
  });
  const out = x.viewOf(s, strides, x.offset);
  return record('expand', [x], out, (g) => [sumTo(g, x.shape)]);
}

export function unsqueeze(x: Tensor, axis: number): Tensor {
  checkTensor(x, 'unsqueeze');
  const a = normAxis(axis, x.ndim + 1, 'unsqueeze');
  const shape = [...x.shape], strides = [...x.strides];
  shape.splice(a, 0, 1);
  strides.splice(a, 0, a < x.ndim ? x.strides[a]! * x.shape[a]! : 1);
  const out = x.viewOf(shape, strides, x.offset);
  return record('unsqueeze', [x], out, (g) => [reshape(g, x.shape)]);
}

/** Drops size-1 dims (all of them, or just `axis`). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  checkTensor(x, 'squeeze');
  const drop = axis === undefined ? x.shape.map((d) => d === 1) : x.shape.map((_, i) => i === normAxis(axis, x.ndim, 'squeeze') && x.shape[i] === 1);
  const out = x.viewOf(x.shape.filter((_, i) => !drop[i]), x.strides.filter((_, i) => !drop[i]), x.offset);
  return record('squeeze', [x], out, (g) => [reshape(g, x.shape)]);
}

export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new RangeError('concat: needs at least one tensor');
  xs.forEach((x) => checkTensor(x, 'concat'));
  const first = xs[0]!;
  const a = normAxis(axis, first.ndim, 'concat');
  for (const x of xs) {
    if (x.dtype !== first.dtype) throw new TypeError(`concat: dtypes differ: ${first.dtype} and ${x.dtype}`);
    if (x.ndim !== first.ndim || x.shape.some((d: number, i: number) => i !== a && d !== first.shape[i])) {
      throw new RangeError(`concat: shapes ${shapeStr(first.shape)} and ${shapeStr(x.shape)} differ outside axis ${a}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = xs.reduce((s, x) => s + x.shape[a]!, 0);
  const out = empty(shape, first.dtype, first.device);
  const starts: number[] = [];
  let at = 0;
  for (const x of xs) {
    starts.push(at);
    const dst = slice(out, a, at, at + x.shape[a]!);
    runInto('copy', [x], [dst]);
    dst.dispose();
    at += x.shape[a]!;
  }
  return record('concat', xs, out, (g) => xs.map((x, i) => (x.requiresGrad ? slice(g, a, starts[i]!, starts[i]! + x.shape[a]!) : null)));
}

export function stack(xs: readonly Tensor[], axis = 0): Tensor {
  if (!Array.isArray(xs) || xs.length === 0) throw new RangeError('stack: needs at least one tensor');
  const a = normAxis(axis, checkTensor(xs[0], 'stack').ndim + 1, 'stack');
  return concat(xs.map((x) => unsqueeze(x, a)), a);
}

/** Splits into pieces of `sizes` (a number: equal pieces of that size, the last may be smaller). */
export function split(x: Tensor, sizes: number | readonly number[], axis = 0): Tensor[] {
  checkTensor(x, 'split');
  const a = normAxis(axis, x.ndim, 'split');
  const n = x.shape[a]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new RangeError(`split: size must be a positive integer, got ${sizes}`);
    parts = [];
    for (let i = 0; i < n; i += sizes) parts.push(Math.min(sizes, n - i));
  } else {
    parts = [...sizes];
    if (parts.some((p) => !Number.isInteger(p) || p < 0) || parts.reduce((s, p) => s + p, 0) !== n) {
      throw new RangeError(`split: sizes ${JSON.stringify(sizes)} do not add up to ${n} along axis ${a}`);
    }
  }
  const starts = parts.map((_, i) => parts.slice(0, i).reduce((s, p) => s + p, 0));
  const views = parts.map((p, i) => noGrad(() => slice(x, a, starts[i]!, starts[i]! + p)));
  // One backward for all the parts, as torch's SplitBackward: a hidden empty node between x and
  // the parts collects their gradients and writes them side by side into one tensor (each part
  // its own zero-filled x-sized gradient, summed, cost a fill and an add per part).
  const node = x.viewOf([0], [1], x.offset);
  const collected: (Tensor | null)[] = parts.map(() => null);
  record('split', [x], node, () => {
    const first = collected.find((g) => g)!;
    const gx = empty(x.shape, first.dtype, first.device);
    collected.forEach((g, i) => {
      if (g) runInto('copy', [g], [slice(gx, a, starts[i]!, starts[i]! + parts[i]!)]);
      collected[i] = null;
    });
    return [gx];
  });
  return views.map((v, i) =>
    record('split', [node], v, (g) => {
      collected[i] = g;
      return [empty([0], g.dtype, g.device)];
    }),
  );
}
