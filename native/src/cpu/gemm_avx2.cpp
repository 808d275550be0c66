// AVX2+FMA float32 micro-kernel, 6 x 16: 12 accumulators. Compiled with -mavx2 -mfma.
#include <immintrin.h>
#include "tensorforge/gemm.h"

namespace tf::gemm {

void ukr_avx2_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, bool accumulate, const float* bias) {
  constexpr int MR = kAvx2MR;
  __m256 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_loadu_ps(Bp + k * 16), b1 = _mm256_loadu_ps(Bp + k * 16 + 8);
    for (int i = 0; i < MR; ++i) {
      __m256 a = _mm256_broadcast_ss(Ap + k * MR + i);
      c0[i] = _mm256_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(a, b1, c1[i]);
    }
  }
  const __m256 bias0 = bias ? _mm256_loadu_ps(bias) : _mm256_setzero_ps(), bias1 = bias ? _mm256_loadu_ps(bias + 8) : _mm256_setzero_ps();
  for (int i = 0; i < MR; ++i) {
    float* row = C + i * ldc;
    if (accumulate) {
      c0[i] = _mm256_add_ps(c0[i], _mm256_loadu_ps(row));
      c1[i] = _mm256_add_ps(c1[i], _mm256_loadu_ps(row + 8));
    }
    if (bias) {
      c0[i] = _mm256_add_ps(c0[i], bias0);
      c1[i] = _mm256_add_ps(c1[i], bias1);
    }
    _mm256_storeu_ps(row, c0[i]);
    _mm256_storeu_ps(row + 8, c1[i]);
  }
}

}  // namespace tf::gemm
