// W1 of ../shared/peers/README.md: GEMM GFLOP/s, float32 and bfloat16, square n = 512/1024/2048
// and the transformer shapes 2048x256·256x1024 and 2048x1024·1024x256.
import { randn, tidy, matmul, type Tensor } from '../lib/index.js';
import { emit, timeit } from './timing.js';

function one(label: Record<string, unknown>, m: number, k: number, n: number, threads: number, minTime: number): void {
  for (const dtype of ['float32', 'bfloat16'] as const) {
    tidy(() => {
      const a = randn([m, k]).to(dtype), b = randn([k, n]).to(dtype);
      const t = timeit(() => (matmul(a, b) as Tensor).dispose(), minTime);
      emit({ w: dtype === 'float32' ? 'gemm_f32' : 'gemm_bf16', ...label, gflops: (2 * m * n * k) / t / 1e9 }, threads);
    });
  }
}

export function benchGemm(threads: number, minTime: number): void {
  for (const n of [512, 1024, 2048]) one({ n }, n, n, n, threads, minTime);
  one({ shape: '2048x256x1024' }, 2048, 256, 1024, threads, minTime);
  one({ shape: '2048x1024x256' }, 2048, 1024, 256, threads, minTime);
}
