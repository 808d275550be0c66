// Reverse-mode autograd: walk the recorded graph from a root in reverse topological order, call
// each op's backward rule once with the summed gradient of its output, and accumulate into the
// `.grad` of leaf tensors that require gradients.
import { run1, runInto } from '../ops/dispatch.js';
import { keep } from '../tensor/memory.js';
import { ones } from '../tensor/create.js';
import { checkTensor, shapeStr, type Tensor } from '../tensor/tensor.js';
import { noGrad } from './mode.js';
import { profileScope } from '../profile.js';
import { add, cast } from '../ops/elementwise.js';

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const i of t.gradFn?.inputs ?? []) if (i?.requiresGrad && !seen.has(i)) stack.push([i, false]);
  }
  return order.reverse();
}

// g already has the leaf's dtype (backward() casts every gradient to its tensor's dtype)
function accumulateLeaf(leaf: Tensor, g: Tensor): void {
  if (leaf.grad === null || leaf.grad.isDisposed) {
    // a private contiguous copy: backward rules may hand one tensor to several inputs
    leaf.grad = keep(run1('copy', [g]));
    return;
  }
  runInto('add', [leaf.grad, g], [leaf.grad]);
}

/** Computes gradients of `root` with respect to every leaf that requires them. */
export function backward(root: Tensor, grad?: Tensor): void {
  checkTensor(root, 'backward', 'root');
  if (!root.requiresGrad) throw new Error('backward: tensor does not require grad and has no grad_fn');
  if (grad === undefined && root.size !== 1) {
    throw new Error(`backward: grad can be implicitly created only for one-element outputs, got ${shapeStr(root.shape)}`);
  }
  if (grad && (grad.shape.length !== root.shape.length || grad.shape.some((d, i) => d !== root.shape[i]))) {
    throw new RangeError(`backward: gradient ${shapeStr(grad.shape)} does not match output ${shapeStr(root.shape)}`);
  }
  noGrad(() => {
    const grads = new Map<Tensor, Tensor>([[root, grad ?? ones(root.shape, { dtype: root.dtype, device: root.device })]]);
    for (const t of topoOrder(root)) {
      let g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      // contributions from consumers of different precision were summed in float32
      if (g.dtype !== t.dtype) g = cast(g, t.dtype);
      if (!t.gradFn) {
        accumulateLeaf(t, g);
        continue;
      }
      const fn = t.gradFn, gt = g;
      const inputGrads = fn.scope ? profileScope(`${fn.scope} (backward)`, () => fn.backward(gt)) : fn.backward(gt);
      fn.inputs.forEach((input, i) => {
        const gi = inputGrads[i];
        if (!input?.requiresGrad || !gi) return;
        const prev = grads.get(input);
        grads.set(input, prev ? add(prev, gi) : gi);
      });
    }
  });
}
