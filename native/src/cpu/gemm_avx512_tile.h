// The AVX-512 micro-kernels' epilogue: MR rows of 32 float32 accumulators plus the Epilogue's terms
// stored to C. Included only by files compiled with -mavx512f.
#pragma once
#include <immintrin.h>
#include <cstdint>
#include "tensorforge/gemm.h"

namespace tf::gemm {

template <int MR>
inline void store_tile_avx512(__m512 (&c0)[MR], __m512 (&c1)[MR], float* C, int64_t ldc, const Epilogue& e) {
  const __m512 bias0 = e.bias ? _mm512_loadu_ps(e.bias) : _mm512_setzero_ps(), bias1 = e.bias ? _mm512_loadu_ps(e.bias + 16) : _mm512_setzero_ps();
  // unrolled, so c0/c1 are indexed by constants and stay in registers: as a loop, GCC 12 stored the
  // accumulators to a stack copy and read them back
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    float* row = C + i * ldc;
    if (e.accumulate) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(row));
      c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(row + 16));
    }
    if (e.bias) {
      c0[i] = _mm512_add_ps(c0[i], bias0);
      c1[i] = _mm512_add_ps(c1[i], bias1);
    }
    if (e.residual) {
      c0[i] = _mm512_add_ps(c0[i], _mm512_loadu_ps(e.residual + i * e.ldr));
      c1[i] = _mm512_add_ps(c1[i], _mm512_loadu_ps(e.residual + i * e.ldr + 16));
    }
    _mm512_storeu_ps(row, c0[i]);
    _mm512_storeu_ps(row + 16, c1[i]);
  }
}

}  // namespace tf::gemm
