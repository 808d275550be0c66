// Post-training int8 quantisation of a model's linear layers (Linear, MultiheadAttention's
// in-projection) and embedding tables: dynamic (activation scales per row at run time) or static
// (one activation scale per layer from calibration data, by min/max or a percentile of |x|), and
// quantisation-aware training before it (fake quantisation with straight-through gradients).
import { noGrad } from '../autograd/mode.js';
import { abs } from '../ops/elementwise.js';
import { max } from '../ops/reduce.js';
import { isQuantizable, type Quantizable } from '../nn/int8.js';
import type { Module } from '../nn/module.js';
import { tidy } from '../tensor/memory.js';
import type { Tensor } from '../tensor/tensor.js';

function quantizables(model: Module): Quantizable[] {
  return [...model.namedModules()].flatMap(([, m]) => (isQuantizable(m) && !m.quantized ? [m] : []));
}

/**
 * Quantisation-aware training: every quantisable layer computes with fake-quantised weights and
 * inputs (straight-through gradients) until quantizeDynamic turns it int8. Returns how many.
 */
export function prepareQat(model: Module): number {
  const layers = quantizables(model);
  for (const m of layers) m.fakeQuant = true;
  return layers.length;
}

/** Int8 weights, activations quantised per row at run time. Returns how many layers changed. */
export function quantizeDynamic(model: Module): number {
  const layers = quantizables(model);
  for (const m of layers) m.quantize(0);
  return layers.length;
}

export interface StaticQuantizeOptions {
  /** 'minmax': the largest |x| seen; 'percentile': the mean over batches of a percentile of |x| */
  observer?: 'minmax' | 'percentile';
  /** for the percentile observer (default 99.99) */
  percentile?: number;
}

/** The percentile observer's statistic of one input. */
function percentileAbs(x: Tensor, p: number): number {
  const v = Float32Array.from(x.data() as Float32Array, Math.abs).sort();
  return v.length ? v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))]! : 0;
}

/**
 * Int8 weights and one fixed activation scale per layer: `calibrate` runs the model (in eval mode)
 * over calibration batches while each layer records its inputs. Returns how many layers changed.
 */
export function quantizeStatic(model: Module, calibrate: () => void, opts: StaticQuantizeOptions = {}): number {
  const observer = opts.observer ?? 'minmax', p = opts.percentile ?? 99.99;
  if (observer !== 'minmax' && observer !== 'percentile') throw new TypeError(`quantizeStatic: unknown observer ${JSON.stringify(observer)}`);
  if (!(p > 0 && p <= 100)) throw new RangeError(`quantizeStatic: percentile must be in (0, 100], got ${p}`);
  const all = quantizables(model);
  const layers = all.filter((m) => m.inputObserver !== undefined);
  const stats = layers.map(() => ({ max: 0, sum: 0, n: 0 }));
  layers.forEach((m, i) => {
    m.inputObserver = (x) => {
      const s = stats[i]!;
      const v = observer === 'minmax' ? tidy(() => (max(abs(x)).data() as Float32Array)[0]!) : percentileAbs(x, p);
      s.max = Math.max(s.max, v);
      s.sum += v;
      s.n++;
    };
  });
  try {
    noGrad(calibrate);
  } finally {
    for (const m of layers) m.inputObserver = null;
  }
  layers.forEach((m, i) => {
    const s = stats[i]!;
    if (s.n === 0) throw new Error('quantizeStatic: calibration never ran a quantizable layer (no forward passes?)');
    const amax = observer === 'minmax' ? s.max : s.sum / s.n;
    m.quantize(amax > 0 ? amax / 127 : 1);
  });
  for (const m of all) if (!m.quantized) m.quantize(0);
  return all.length;
}
