// Whether ops record the autograd graph.
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';
let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn without recording gradients (like torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/**
 * Runs fn in a scope of its own when no graph is recorded, so its intermediates are freed as soon
 * as it returns and the next block reuses their (cache-warm) buffers; under autograd they must live
 * until backward, and fn runs as is.
 */
export function blockScope<T extends Tensor>(fn: () => T): T {
  return enabled ? fn() : tidy(fn);
}
