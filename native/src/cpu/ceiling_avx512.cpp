// Peak-rate loops for AVX-512: FMA, VDPBF16PS, VPDPBUSD, twelve independent accumulators each
// (enough to cover the instructions' latency on two pipes).
#include <immintrin.h>
#include "tensorforge/ceiling.h"

namespace tf::ceiling {

float fma_avx512(long iters) {
  __m512 a[12];
  const __m512 b = _mm512_set1_ps(0.999f), c = _mm512_set1_ps(1e-6f);
  for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_ps(static_cast<float>(u));
  for (long i = 0; i < iters; ++i)
    for (int u = 0; u < 12; ++u) a[u] = _mm512_fmadd_ps(a[u], b, c);
  __m512 s = a[0];
  for (int u = 1; u < 12; ++u) s = _mm512_add_ps(s, a[u]);
  return _mm512_reduce_add_ps(s);
}

float dpbf16_avx512(long iters) {
  __m512 a[12];
  const __m512bh x = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3f80)), y = reinterpret_cast<__m512bh>(_mm512_set1_epi16(0x3a83));
  for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_ps(static_cast<float>(u));
  for (long i = 0; i < iters; ++i)
    for (int u = 0; u < 12; ++u) a[u] = _mm512_dpbf16_ps(a[u], x, y);
  __m512 s = a[0];
  for (int u = 1; u < 12; ++u) s = _mm512_add_ps(s, a[u]);
  return _mm512_reduce_add_ps(s);
}

int dpbusd_avx512(long iters) {
  __m512i a[12];
  const __m512i x = _mm512_set1_epi8(1), y = _mm512_set1_epi8(1);
  for (int u = 0; u < 12; ++u) a[u] = _mm512_set1_epi32(u);
  for (long i = 0; i < iters; ++i)
    for (int u = 0; u < 12; ++u) a[u] = _mm512_dpbusd_epi32(a[u], x, y);
  __m512i s = a[0];
  for (int u = 1; u < 12; ++u) s = _mm512_add_epi32(s, a[u]);
  return _mm512_reduce_add_epi32(s);
}

}  // namespace tf::ceiling
