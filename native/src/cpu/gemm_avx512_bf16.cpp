// AVX-512 BF16 micro-kernel, 8 x 32: VDPBF16PS multiplies pairs of bfloat16 along k and adds into
// float32 lanes. Compiled with -mavx512bf16; only called when the CPU reports AVX512_BF16.
#include <immintrin.h>
#include "tensorforge/gemm.h"
#include "gemm_avx512_tile.h"

namespace tf::gemm {

void ukr_avx512_bf16(int64_t kc2, const uint16_t* Ap, const uint16_t* Bp, float* C, int64_t ldc, const Epilogue& e) {
  constexpr int MR = kAvx512MR;
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16  // not a loop: GCC 12 turns a zeroing loop into a memset of a stack copy (rep stos)
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  const uint32_t* A32 = reinterpret_cast<const uint32_t*>(Ap);
  for (int64_t p = 0; p < kc2; ++p) {
    __m512bh b0 = (__m512bh)_mm512_loadu_si512(Bp + p * 64);
    __m512bh b1 = (__m512bh)_mm512_loadu_si512(Bp + p * 64 + 32);
    for (int i = 0; i < MR; ++i) {
      __m512bh a = (__m512bh)_mm512_set1_epi32(static_cast<int>(A32[p * MR + i]));
      c0[i] = _mm512_dpbf16_ps(c0[i], a, b0);
      c1[i] = _mm512_dpbf16_ps(c1[i], a, b1);
    }
  }
  store_tile_avx512<MR>(c0, c1, C, ldc, e);
}

}  // namespace tf::gemm
