// Validation of user-given shapes and axes, with errors that name the op.
import { MAX_RANK, shapeStr } from './tensor.js';

export function checkShape(shape: unknown, op: string): number[] {
  if (!Array.isArray(shape)) throw new TypeError(`${op}: shape must be an array of sizes, got ${typeof shape}`);
  if (shape.length > MAX_RANK) throw new RangeError(`${op}: rank ${shape.length} of ${shapeStr(shape as number[])} is above ${MAX_RANK}`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new RangeError(`${op}: sizes must be non-negative integers, got ${shapeStr(shape as number[])}`);
    }
  }
  return [...shape] as number[];
}

/** Normalises a possibly negative axis for a tensor of rank `rank`. */
export function normAxis(axis: number, rank: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new RangeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}
