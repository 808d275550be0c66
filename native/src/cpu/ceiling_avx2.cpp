// Peak-rate FMA loop for AVX2 (machines without AVX-512).
#include <immintrin.h>
#include "tensorforge/ceiling.h"

namespace tf::ceiling {

float fma_avx2(long iters) {
  __m256 a[12];
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-6f);
  for (int u = 0; u < 12; ++u) a[u] = _mm256_set1_ps(static_cast<float>(u));
  for (long i = 0; i < iters; ++i)
    for (int u = 0; u < 12; ++u) a[u] = _mm256_fmadd_ps(a[u], b, c);
  __m256 s = a[0];
  for (int u = 1; u < 12; ++u) s = _mm256_add_ps(s, a[u]);
  alignas(32) float v[8];
  _mm256_store_ps(v, s);
  return v[0] + v[1] + v[2] + v[3] + v[4] + v[5] + v[6] + v[7];
}

}  // namespace tf::ceiling
