// Test helpers: run a computation on a backend (and ISA) and compare tensors with a normalised error.
import { expect } from 'vitest';
import { type Tensor } from '../../lib/index.js';

/** max |a - b| / max(1, max |b|); NaN where exactly one side is NaN counts as Infinity. */
export function normErr(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = 'data' in a && typeof a.data === 'function' ? (a as Tensor).data() : (a as ArrayLike<number>);
  const y = 'data' in b && typeof b.data === 'function' ? (b as Tensor).data() : (b as ArrayLike<number>);
  expect(x.length).toBe(y.length);
  let scale = 1, err = 0;
  for (let i = 0; i < y.length; i++) if (Number.isFinite(y[i]!)) scale = Math.max(scale, Math.abs(y[i]!));
  for (let i = 0; i < y.length; i++) {
    const p = x[i]!, q = y[i]!;
    if (Number.isNaN(p) !== Number.isNaN(q)) return Infinity;
    if (Number.isNaN(q) || p === q) continue;
    err = Math.max(err, Math.abs(p - q));
  }
  return err / scale;
}

export function expectClose(a: Tensor, b: Tensor, tol = 1e-5, what = ''): void {
  expect(a.shape, `${what} shape`).toEqual(b.shape);
  const e = normErr(a, b);
  expect(e, `${what}: normalised error ${e}`).toBeLessThanOrEqual(tol);
}
