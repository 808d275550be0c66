// Peak-rate loops for AVX-512: FMA, VDPBF16PS, VPDPBUSD, twelve independent accumulators each
// (enough to cover the instructions' latency on two pipes).
#include <immintrin.h>
#include "tensorforge/ceiling.h"

namespace tf::ceiling {

float fma_avx512(long iters) {
  __m512 a[12];
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-6f);
  for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_ps(static_cast<float>(u));
  run_chains(a, iters, [&](__m512 x) { return _mm512_fmadd_ps(x, b, c); });
  return sum_chains<float>(a);
}

float dpbf16_avx512(long iters) {
  __m512 a[12];
  const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80)), y = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3a83));
  for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_ps(static_cast<float>(u));
  run_chains(a, iters, [&](__m512 acc) { return _mm512_dpbf16_ps(acc, x, y); });
  return sum_chains<float>(a);
}

int dpbusd_avx512(long iters) {
  __m512i a[12];
  const __m512i x = _mm512_set1_epi8(1), y = _mm512_set1_epi8(1);
  for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_epi32(u);
  run_chains(a, iters, [&](__m512i acc) { return _mm512_dpbusd_epi32(acc, x, y); });
  return sum_chains<int>(a);
}

}  // namespace tf::ceiling
