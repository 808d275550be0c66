// AVX-512 float32 micro-kernel, 8 x 32: 16 accumulators, two B vectors and one A broadcast per k.
// Compiled with -mavx512f; only called when the CPU has AVX-512.
#include <immintrin.h>
#include "tensorforge/gemm.h"
#include "gemm_avx512_tile.h"

namespace tf::gemm {

void ukr_avx512_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, bool accumulate) {
  constexpr int MR = kAvx512MR;
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(Bp + k * 32), b1 = _mm512_loadu_ps(Bp + k * 32 + 16);
    for (int i = 0; i < MR; ++i) {
      __m512 a = _mm512_set1_ps(Ap[k * MR + i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
  }
  store_tile_avx512<MR>(c0, c1, C, ldc, accumulate);
}

}  // namespace tf::gemm
