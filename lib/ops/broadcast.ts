// Broadcasting rules (PyTorch's) and the reduction of a broadcast gradient back to its input shape.
import { contiguousStrides, shapeStr, type Tensor } from '../tensor/tensor.js';
import { run1 } from './dispatch.js';

export function broadcastShapes(a: readonly number[], b: readonly number[], op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[i - (n - a.length)] ?? 1;
    const db = b[i - (n - b.length)] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`${op}: shapes ${shapeStr(a)} and ${shapeStr(b)} do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Sums g over the dims that broadcasting added or stretched, so it has `shape` again. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.shape.length - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.shape.length; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length ? run1('sum', [g], [1, ...axes]) : g;
  // keepdim kept the stretched dims as 1; drop the leading ones
  return lead > 0 ? summed.viewOf(shape, contiguousStrides(shape), summed.offset) : summed;
}

