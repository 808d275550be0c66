// An exponential moving average of the weights (as timm's ModelEmaV2 or torch.optim.swa_utils with
// an EMA averaging function): after each optimizer step, avg = d avg + (1 - d) w, with the decay
// warmed up as min(decay, (1 + n) / (10 + n)) so the first steps are not dominated by the random
// initialisation. The averaged weights are usually the better model on small data; the Trainer
// evaluates with them and keeps them as the run's model.
import { noGrad } from '../autograd/mode.js';
import { run1, runInto } from '../ops/dispatch.js';
import { mul } from '../ops/elementwise.js';
import { full } from '../tensor/create.js';
import { keep, tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

export class WeightAverage {
  /** the averaged weights, one per parameter, in the parameters' order */
  readonly averaged: Tensor[];
  /** updates so far (the decay's warm-up counts them) */
  updates = 0;

  constructor(readonly params: readonly Tensor[], readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new RangeError(`ema: decay must be in (0, 1), got ${decay}`);
    this.averaged = noGrad(() => params.map((p) => keep(run1('copy', [p]))));
  }

  /** Moves the average towards the current weights (after an optimizer step). */
  update(): void {
    this.updates++;
    const d = Math.min(this.decay, (1 + this.updates) / (10 + this.updates));
    noGrad(() =>
      tidy(() => {
        this.params.forEach((p, i) => {
          const a = this.averaged[i]!;
          runInto('mul', [a, full([], d, { dtype: a.dtype, device: a.device })], [a]);
          runInto('add', [a, mul(p, 1 - d)], [a]);
        });
      }),
    );
  }

  /** Runs fn with the averaged weights in place of the parameters, then puts the parameters back. */
  withAveraged<T>(fn: () => T): T {
    this.swap();
    try {
      return fn();
    } finally {
      this.swap();
    }
  }

  private swap(): void {
    noGrad(() =>
      tidy(() => {
        this.params.forEach((p, i) => {
          const a = this.averaged[i]!, held = run1('copy', [p]);
          runInto('copy', [a], [p]);
          runInto('copy', [held], [a]);
        });
      }),
    );
  }
}
