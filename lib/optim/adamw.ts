// AdamW (decoupled weight decay, bias correction) as torch.optim.AdamW; one native call updates
// every parameter of a group.
import { runInto } from '../ops/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type GroupSpec } from './optimizer.js';

export interface AdamWHyper {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
}

export class AdamW extends Optimizer<AdamWHyper> {
  constructor(params: Tensor[] | GroupSpec<AdamWHyper>[], opts: Partial<AdamWHyper> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...opts }, 'AdamW');
  }
  readonly bufferNames = ['exp_avg', 'exp_avg_sq'];
  protected validate(h: AdamWHyper): void {
    if (!(h.lr >= 0)) throw new RangeError(`AdamW: lr must be >= 0, got ${h.lr}`);
    if (!(h.eps >= 0)) throw new RangeError(`AdamW: eps must be >= 0, got ${h.eps}`);
    if (!(h.weightDecay >= 0)) throw new RangeError(`AdamW: weight_decay must be >= 0, got ${h.weightDecay}`);
    if (!h.betas.every((b) => b >= 0 && b < 1)) throw new RangeError(`AdamW: betas must be in [0, 1), got ${h.betas}`);
  }
  step(): void {
    for (const g of this.groups) {
      const h = g.hyper;
      for (const [step, e] of this.withGrads(g, 2)) {
        const [m, v] = e.buffers as [Tensor[], Tensor[]];
        runInto('adamw_step', [...e.params, ...e.grads, ...m, ...v], [], [h.lr, h.betas[0], h.betas[1], h.eps, h.weightDecay, step]);
      }
    }
  }
}
