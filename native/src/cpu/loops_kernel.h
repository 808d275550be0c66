// The loops of loops.h, in plain arithmetic the compiler vectorises at the ISA of the including
// file, which defines TF_LOOPS_NS. Sums run in float32 over SIMD lanes (the reference kernels use
// double; the tests bound the difference).
#include <cmath>
#include <cstdint>
#include <cstring>
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

void dropout_apply(const float* x, const uint8_t* keep, float scale, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? x[i] * scale : 0.0f;
}

void dropout_keep(uint64_t seed, uint64_t first_block, int64_t blocks, float p, uint8_t* keep) {
  constexpr int L = 16;  // blocks side by side: the rounds' 32x32->64 products vectorise across them
  const uint32_t key0 = static_cast<uint32_t>(seed), key1 = static_cast<uint32_t>(seed >> 32);
  // (w >> 8) * 2^-24 >= p, the rule of every backend, in integers: w >> 8 >= ceil(p * 2^24) (exact:
  // the float scaling is by a power of two)
  const uint32_t threshold = static_cast<uint32_t>(std::ceil(static_cast<double>(p) * 16777216.0));
  for (int64_t b0 = 0; b0 < blocks; b0 += L) {
    const int n = static_cast<int>(blocks - b0 < L ? blocks - b0 : L);
    uint32_t c0[L], c1[L], c2[L], c3[L];
    for (int j = 0; j < L; ++j) {
      const uint64_t ctr = first_block + static_cast<uint64_t>(b0 + j);
      c0[j] = static_cast<uint32_t>(ctr);
      c1[j] = static_cast<uint32_t>(ctr >> 32);
      c2[j] = c3[j] = 0;
    }
    uint32_t k0 = key0, k1 = key1;
    for (int r = 0; r < 10; ++r) {
#pragma omp simd
      for (int j = 0; j < L; ++j) {
        const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0[j];
        const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2[j];
        const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1[j] ^ k0;
        const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3[j] ^ k1;
        c1[j] = static_cast<uint32_t>(p1);
        c3[j] = static_cast<uint32_t>(p0);
        c0[j] = n0;
        c2[j] = n2;
      }
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    // block j's four keep bytes as one little-endian word, word by word: a loop that vectorises
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "keep bytes are packed little-endian");
    uint32_t packed[L];
#pragma omp simd
    for (int j = 0; j < L; ++j)
      packed[j] = static_cast<uint32_t>((c0[j] >> 8) >= threshold) | static_cast<uint32_t>((c1[j] >> 8) >= threshold) << 8 |
                  static_cast<uint32_t>((c2[j] >> 8) >= threshold) << 16 | static_cast<uint32_t>((c3[j] >> 8) >= threshold) << 24;
    std::memcpy(keep + b0 * 4, packed, static_cast<size_t>(n) * 4);
  }
}

}  // namespace tf::cpu::TF_LOOPS_NS
