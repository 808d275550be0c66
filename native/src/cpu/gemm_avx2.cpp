// AVX2+FMA float32 micro-kernel, 6 x 16: 12 accumulators. Compiled with -mavx2 -mfma.
#include <immintrin.h>
#include "tensorforge/gemm.h"

namespace tf::gemm {

void ukr_avx2_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, const Epilogue& e) {
  constexpr int MR = kAvx2MR;
  __m256 c0[MR], c1[MR];
#pragma GCC unroll 16  // not a loop: GCC 12 turns a zeroing loop into a memset of a stack copy (rep stos)
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_loadu_ps(Bp + k * 16), b1 = _mm256_loadu_ps(Bp + k * 16 + 8);
    for (int i = 0; i < MR; ++i) {
      __m256 a = _mm256_broadcast_ss(Ap + k * MR + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
  }
  const __m256 bias0 = e.bias ? _mm256_loadu_ps(e.bias) : _mm256_setzero_ps(), bias1 = e.bias ? _mm256_loadu_ps(e.bias + 8) : _mm256_setzero_ps();
#pragma GCC unroll 16  // as in store_tile_avx512: constant indices keep c0/c1 in registers
  for (int i = 0; i < MR; ++i) {
    float* row = C + i * ldc;
    if (e.accumulate) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(row));
      c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(row + 8));
    }
    if (e.bias) {
      c0[i] = _mm256_add_ps(c0[i], bias0);
      c1[i] = _mm256_add_ps(c1[i], bias1);
    }
    if (e.residual) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(e.residual + i * e.ldr));
      c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(e.residual + i * e.ldr + 8));
    }
    _mm256_storeu_ps(row, c0[i]);
    _mm256_storeu_ps(row + 8, c1[i]);
  }
}

}  // namespace tf::gemm
