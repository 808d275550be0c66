// Dynamic loss scaling for float16 training with torch.cuda.amp.GradScaler's semantics: the loss is
// multiplied by `scale` before backward; gradients are unscaled (before clipping) and checked; a
// step with an inf/NaN gradient is skipped and the scale halved; after `growthInterval` clean steps
// in a row the scale doubles.
import { mul } from '../ops/elementwise.js';
import type { Optimizer } from '../optim/optimizer.js';
import { clipGradNorm, gradSquaredNorm, scaleGrads } from '../optim/clip.js';
import type { Tensor } from '../tensor/tensor.js';

export interface GradScalerState {
  scale: number;
  growthTracker: number;
}

export class GradScaler {
  scale: number;
  private growthTracker = 0;
  private unscaled = false;
  private foundInf = false;
  constructor(
    readonly opts: { initScale?: number; growthFactor?: number; backoffFactor?: number; growthInterval?: number; enabled?: boolean } = {},
  ) {
    this.scale = opts.initScale ?? 2 ** 16;
  }
  get enabled(): boolean {
    return this.opts.enabled ?? true;
  }

  scaleLoss(loss: Tensor): Tensor {
    return this.enabled ? mul(loss, this.scale) : loss;
  }

  /** Divides the gradients by the scale (once per step) and records whether any is inf/NaN. */
  unscale(params: readonly Tensor[]): void {
    if (!this.enabled || this.unscaled) return;
    scaleGrads(params, 1 / this.scale);
    this.foundInf = !Number.isFinite(gradSquaredNorm(params));
    this.unscaled = true;
  }

  /** Steps the optimizer unless a gradient overflowed; returns whether it stepped. */
  step(optimizer: Optimizer<{ lr: number }>, params: readonly Tensor[]): boolean {
    if (!this.enabled) {
      optimizer.step();
      return true;
    }
    this.unscale(params);
    if (!this.foundInf) optimizer.step();
    return !this.foundInf;
  }

  /** Adjusts the scale after a step (call once per optimizer step). */
  update(): void {
    if (!this.enabled) return;
    if (this.foundInf) {
      this.scale *= this.opts.backoffFactor ?? 0.5;
      this.growthTracker = 0;
    } else if (++this.growthTracker >= (this.opts.growthInterval ?? 2000)) {
      this.scale *= this.opts.growthFactor ?? 2;
      this.growthTracker = 0;
    }
    this.unscaled = false;
    this.foundInf = false;
  }

  /**
   * The end of an optimizer step, after backward: unscale, clip the global norm to `clipNorm` (when
   * given), step unless a gradient overflowed, adjust the scale, zero the gradients.
   */
  finishStep(optimizer: Optimizer<{ lr: number }>, params: readonly Tensor[], clipNorm?: number | null): { stepped: boolean; gradNorm: number | null } {
    this.unscale(params);
    const gradNorm = clipNorm ? clipGradNorm(params, clipNorm) : null;
    const stepped = this.step(optimizer, params);
    this.update();
    optimizer.zeroGrad();
    return { stepped, gradNorm };
  }

  getState(): GradScalerState {
    return { scale: this.scale, growthTracker: this.growthTracker };
  }
  setState(s: GradScalerState): void {
    this.scale = s.scale;
    this.growthTracker = s.growthTracker;
  }
}
