// The machine's own limits in the same run (FMA float32, VDPBF16PS, VPDPBUSD, copy bandwidth), and
// the memory-bound kernels (LayerNorm, softmax, AdamW) as GB/s to set against the copy figure.
import { AdamW, layerNorm, noGrad, ones, randn, softmax, tidy, zeros } from '../lib/index.js';
import { native } from '../lib/native.js';
import { emit, timeit } from './timing.js';

export function benchCeiling(threads: number, minTime: number): void {
  const s = Math.min(2, Math.max(0.3, minTime));
  emit({ w: 'ceiling', kind: 'fma_f32', gflops: native.ceiling('fma_f32', s) }, threads);
  emit({ w: 'ceiling', kind: 'bf16_dot', gflops: native.ceiling('bf16_dot', s) }, threads);
  emit({ w: 'ceiling', kind: 'int8_dot', gops: native.ceiling('int8_dot', s) }, threads);
  emit({ w: 'ceiling', kind: 'copy', gbps: native.ceiling('copy', s) }, threads);
}

export function benchBandwidth(threads: number, minTime: number): void {
  // 16384 rows x 1024: 64 MiB per float32 tensor, far beyond the caches
  const rows = 16384, d = 1024, bytes = rows * d * 4;
  const x = randn([rows, d]), w = ones([d]), b = zeros([d]);
  let t = timeit(() => tidy(() => void noGrad(() => layerNorm(x, w, b))), minTime);
  emit({ w: 'layer_norm', shape: [rows, d], gbps: (2 * bytes) / t / 1e9, ms: t * 1e3 }, threads);
  t = timeit(() => tidy(() => void noGrad(() => softmax(x, -1))), minTime);
  emit({ w: 'softmax', shape: [rows, d], gbps: (2 * bytes) / t / 1e9, ms: t * 1e3 }, threads);
  // AdamW reads parameter, gradient and both moments and writes parameter and moments: 7 x 4 bytes
  const p = randn([rows * d]).requiresGrad_();
  p.grad = randn([rows * d]);
  const opt = new AdamW([p], { lr: 1e-3 });
  t = timeit(() => opt.step(), minTime);
  emit({ w: 'adamw', numel: rows * d, gbps: (7 * bytes) / t / 1e9, ms: t * 1e3 }, threads);
}
