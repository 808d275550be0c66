// Learning-rate schedules: constant, or linear warm-up then constant, linear or cosine decay to
// `minLr` at `totalSteps` (as transformers' get_linear/cosine_schedule_with_warmup).
export type ScheduleKind = 'constant' | 'linear' | 'cosine';

export interface ScheduleOptions {
  kind: ScheduleKind;
  lr: number;
  warmupSteps?: number;
  totalSteps?: number;
  minLr?: number;
}

/** The learning rate for optimizer step `step` (1-based: the first update uses step 1). */
export function learningRate(o: ScheduleOptions, step: number): number {
  const warm = o.warmupSteps ?? 0, total = o.totalSteps ?? 0, min = o.minLr ?? 0;
  if (warm > 0 && step <= warm) return (o.lr * step) / warm;
  if (o.kind === 'constant' || total <= warm) return o.lr;
  const progress = Math.min(1, (step - warm) / (total - warm));
  const factor = o.kind === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
  return min + (o.lr - min) * factor;
}

export function checkSchedule(o: ScheduleOptions): ScheduleOptions {
  if (!['constant', 'linear', 'cosine'].includes(o.kind)) throw new TypeError(`schedule: kind must be constant, linear or cosine, got ${o.kind}`);
  if (!(o.lr > 0)) throw new RangeError(`schedule: lr must be > 0, got ${o.lr}`);
  for (const k of ['warmupSteps', 'totalSteps'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) throw new RangeError(`schedule: ${k} must be a non-negative integer, got ${v}`);
  }
  return o;
}
