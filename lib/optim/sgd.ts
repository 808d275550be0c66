// SGD with momentum, dampening, Nesterov and weight decay, as torch.optim.SGD.
import { runInto } from '../ops/dispatch.js';
import type { Tensor } from '../tensor/tensor.js';
import { Optimizer, type GroupSpec } from './optimizer.js';

export interface SGDHyper {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
}

export class SGD extends Optimizer<SGDHyper> {
  constructor(params: Tensor[] | GroupSpec<SGDHyper>[], opts: Partial<SGDHyper> = {}) {
    super(params, { lr: 1e-3, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...opts }, 'SGD');
  }
  readonly bufferNames = ['momentum_buffer'];
  protected validate(h: SGDHyper): void {
    if (!(h.lr >= 0)) throw new RangeError(`SGD: lr must be >= 0, got ${h.lr}`);
    if (!(h.momentum >= 0)) throw new RangeError(`SGD: momentum must be >= 0, got ${h.momentum}`);
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) throw new RangeError('SGD: nesterov needs momentum > 0 and dampening 0');
  }
  step(): void {
    for (const g of this.groups) {
      const h = g.hyper;
      for (const [step, e] of this.withGrads(g, 1)) {
        const attrs = [h.lr, h.momentum, h.dampening, h.weightDecay, h.nesterov ? 1 : 0, step === 1 ? 1 : 0];
        runInto('sgd_step', [...e.params, ...e.grads, ...e.buffers[0]!], [], attrs);
      }
    }
  }
}
