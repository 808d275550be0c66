// Peak-rate FMA loop for AVX2 (machines without AVX-512).
#include <immintrin.h>
#include "tensorforge/ceiling.h"

namespace tf::ceiling {

float fma_avx2(long iters) {
  __m256 a[12];
  const __m256 b = _mm256_set1_ps(0.999f), c = _mm256_set1_ps(1e-6f);
  for (int u = 0; u < 12; ++u) a[u] = _mm256_set1_ps(static_cast<float>(u));
  run_chains(a, iters, [&](__m256 x) { return _mm256_fmadd_ps(x, b, c); });
  return sum_chains<float>(a);
}

}  // namespace tf::ceiling
