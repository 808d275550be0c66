// Activation loops over contiguous float32 runs, compiled once per ISA (activation_avx512.cpp,
// activation_avx2.cpp, activation_base.cpp): the includer defines TF_ACT_NS. elementwise.cpp calls
// them for dense runs; strided and integer runs take the scalar path.
#include <cstdint>
#include "activation.h"
#include "vector_math.h"

namespace tf::cpu::TF_ACT_NS {

// 0.5 x (1 + erf(x / sqrt 2))
void gelu(const float* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = 0.5f * x[i] * (1.0f + verf(x[i] * 0.70710678118654752f));
}

// g (Phi(x) + x phi(x))
void gelu_backward(const float* x, const float* g, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const float cdf = 0.5f * (1.0f + verf(x[i] * 0.70710678118654752f));
    const float pdf = 0.39894228040143268f * vexp(-0.5f * x[i] * x[i]);
    y[i] = g[i] * (cdf + x[i] * pdf);
  }
}

}  // namespace tf::cpu::TF_ACT_NS
