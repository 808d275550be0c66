// Running a native op from TypeScript, and recording it for autograd.
import { isGradEnabled } from '../autograd/mode.js';
import { native } from '../native.js';
import { backendFor } from '../tensor/backend.js';
import { deviceName } from '../tensor/device.js';
import { DTYPES } from '../tensor/dtype.js';
import { Tensor, type GradFn } from '../tensor/tensor.js';
import { currentScope, profiling, recordOp } from '../profile.js';

// op ids by name, so the binding does not look names up on every call
let opIds: Map<string, number> | null = null;

/** The device every tensor of an op call is on (-1: host), or an Error naming both when they differ. */
function deviceOf(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[] | null): number {
  const dev = inputs.length ? inputs[0]!.deviceIndex : outputs?.length ? outputs[0]!.deviceIndex : -1;
  for (const list of [inputs, outputs ?? []]) {
    for (const t of list) {
      if (t.deviceIndex !== dev) {
        throw new Error(`${op}: expected all tensors on one device, got ${deviceName(dev)} and ${deviceName(t.deviceIndex)}`);
      }
    }
  }
  return dev;
}

function call(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[] | null, attrs: readonly number[]) {
  const descs = inputs.map((t) => t.desc(op));
  const outDescs = outputs ? outputs.map((t) => t.desc(op)) : null;
  opIds ??= new Map(native.opNames().map((n, i) => [n, i]));
  const id = opIds.get(op) ?? op;
  const backend = backendFor(deviceOf(op, inputs, outputs), op);
  if (!profiling()) return native.run(id, backend, descs, outDescs, attrs as number[]);
  const t0 = performance.now();
  const r = native.run(id, backend, descs, outDescs, attrs as number[]);
  recordOp(op, performance.now() - t0);
  return r;
}

/** Runs `op` on the backend of its tensors' device and wraps its new outputs. */
export function run(op: string, inputs: readonly Tensor[], attrs: readonly number[] = []): Tensor[] {
  return call(op, inputs, null, attrs).map(([storage, shape, dtype]) => Tensor.fromStorage(storage, DTYPES[dtype]!, shape));
}

/** Runs `op` writing into caller-provided outputs (in-place updates, writes into views). */
export function runInto(op: string, inputs: readonly Tensor[], outputs: readonly Tensor[], attrs: readonly number[] = []): void {
  call(op, inputs, outputs, attrs);
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
  if (needsGrad(inputs)) out.setGradFn({ name, inputs, backward, scope: profiling() ? currentScope() : undefined });
  return out;
}
