// The loops of loops.h, in plain arithmetic the compiler vectorises at the ISA of the including
// file, which defines TF_LOOPS_NS. Sums run in float32 over SIMD lanes (the reference kernels use
// double; the tests bound the difference).
#include <cmath>
#include <cstdint>
#include "loops.h"
#include "vector_math.h"

namespace tf::cpu::TF_LOOPS_NS {

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

void softmax_row(const float* x, float* y, int64_t n) {
  float m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t j = 0; j < n; ++j) m = x[j] > m ? x[j] : m;
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) {
    y[j] = vexp(x[j] - m);
    s += y[j];
  }
  const float inv = 1.0f / s;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) y[j] *= inv;
}

void layer_norm_row(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd, int64_t n) {
  float s = 0.0f;
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) s += x[j];
  const float m = s / static_cast<float>(n);
  float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
  for (int64_t j = 0; j < n; ++j) ss += (x[j] - m) * (x[j] - m);
  const float rs = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  if (w && b) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = (x[j] - m) * rs * w[j] + b[j];
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j) y[j] = (x[j] - m) * rs * (w ? w[j] : 1.0f) + (b ? b[j] : 0.0f);
  }
  *mean = m;
  *rstd = rs;
}

void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamWFactors& f) {
  // locals: stores through p, m, v could otherwise alias the factors and block vectorisation
  const float decay = f.decay, b1 = f.b1, b2 = f.b2, bc2_sqrt = f.bc2_sqrt, eps = f.eps, step = f.step;
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float pj = p[j] * decay;
    const float mj = m[j] + (g[j] - m[j]) * (1.0f - b1);
    const float vj = v[j] * b2 + (1.0f - b2) * g[j] * g[j];
    const float denom = std::sqrt(vj) / bc2_sqrt + eps;
    p[j] = pj - step * (mj / denom);
    m[j] = mj;
    v[j] = vj;
  }
}

}  // namespace tf::cpu::TF_LOOPS_NS
