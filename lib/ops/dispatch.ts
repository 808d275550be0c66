// Running a native op from TypeScript, and recording it for autograd.
import { isGradEnabled } from '../autograd/mode.js';
import { native } from '../native.js';
import { backendId } from '../tensor/backend.js';
import { DTYPES } from '../tensor/dtype.js';
import { Tensor, type GradFn } from '../tensor/tensor.js';

/** Runs `op` on the current backend and wraps its new outputs. */
export function run(op: string, inputs: readonly Tensor[], attrs: readonly number[] = []): Tensor[] {
  const descs = inputs.map((t) => t.desc(op));
  const outs = native.run(op, backendId(), descs, null, attrs as number[]);
  return outs.map(([storage, shape, dtype]) => Tensor.fromStorage(storage, DTYPES[dtype]!, shape));
}

/** Runs `op` writing into caller-provided outputs (in-place updates, writes into views). */
export function runInto(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: readonly number[] = []): void {
  native.run(op, backendId(), inputs.map((t) => t.desc(op)), outputs.map((t) => t.desc(op)), attrs as number[]);
}

export function run1(op: string, inputs: readonly Tensor[], attrs: readonly number[] = []): Tensor {
  return run(op, inputs, attrs)[0]!;
}

/** True when an op on these inputs must be recorded. */
export function needsGrad(inputs: readonly (Tensor | null | undefined)[]): boolean {
  return isGradEnabled() && inputs.some((t) => t?.requiresGrad);
}

/**
 * Records `out` as produced by `name` from `inputs`; `backward` maps the gradient of `out` to one
 * gradient per input (null where none). Does nothing when no input needs a gradient.
 */
export function record(name: string, inputs: readonly (Tensor | null)[], out: Tensor, backward: GradFn['backward']): Tensor {
  if (needsGrad(inputs)) out.setGradFn({ name, inputs, backward });
  return out;
}
