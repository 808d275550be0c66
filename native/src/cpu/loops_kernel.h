// The loops of loops.h, in plain arithmetic the compiler vectorises at the ISA of the including
// file, which defines TF_LOOPS_NS. Sums run in float32 over SIMD lanes (the reference kernels use
// double; the tests bound the difference).
#include <cmath>
#include <cstdint>
#include <cstring>
#ifdef __AVX512F__
#include <immintrin.h>
#endif
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
  const float m = vsum(x, n, [](auto v) { return v; }) / static_cast<float>(n);
  const float ss = vsum(x, n, [m](auto v) { return (v - m) * (v - m); });
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

void to_bf16(const float* x, uint16_t* y, int64_t n) {
  // dtype.h's f32_to_bf16, written out: the per-ISA files include no header with non-static inline
  // functions, whose copy built with this ISA's instructions the linker could keep for every caller
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    y[i] = static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : rounded);
  }
}

void from_bf16(const uint16_t* x, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t u = static_cast<uint32_t>(x[i]) << 16;
    std::memcpy(y + i, &u, 4);
  }
}

template <bool kWeight>
void layer_norm_backward_row_of(const float* g, const float* x, float mean, float rstd, const float* w, float* dx, double* acc_w, double* acc_b, int64_t n) {
  double a = 0, b = 0;  // the row's sums of g w and g w xhat
#pragma omp simd reduction(+ : a, b)
  for (int64_t j = 0; j < n; ++j) {
    const float xhat = (x[j] - mean) * rstd, gw = kWeight ? g[j] * w[j] : g[j];
    a += gw;
    b += static_cast<double>(gw) * xhat;
    acc_w[j] += static_cast<double>(g[j]) * xhat;
    acc_b[j] += g[j];
  }
  const float am = static_cast<float>(a / n), bm = static_cast<float>(b / n);
#pragma omp simd
  for (int64_t j = 0; j < n; ++j) {
    const float xhat = (x[j] - mean) * rstd, gw = kWeight ? g[j] * w[j] : g[j];
    dx[j] = rstd * (gw - am - xhat * bm);
  }
}

void layer_norm_backward_row(const float* g, const float* x, float mean, float rstd, const float* w, float* dx, double* acc_w, double* acc_b, int64_t n) {
  (w ? layer_norm_backward_row_of<true> : layer_norm_backward_row_of<false>)(g, x, mean, rstd, w, dx, acc_w, acc_b, n);
}

void add_to_f64(const float* x, double* acc, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<double>(x[i]);
}

void dropout_apply(const float* x, const uint8_t* keep, float scale, float* y, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = keep[i] ? x[i] * scale : 0.0f;
}

// Philox4x32-10's rounds on 16 blocks side by side (lane j: block j), counters in c0..c3 in place.
#ifdef __AVX512F__
// GCC 12 reports the shift and multiply intrinsics' undefined pass-through operand as maybe
// uninitialised (GCC bug 105593, fixed in 13)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// the low and high words of the 32x32->64 products a * m lane by lane: VPMULUDQ on the even lanes,
// and on the odd lanes shifted down (what the compiler made of the plain loop used VPMULLQ on
// zero-extended halves, with shuffles around it)
static inline void mul_lo_hi(__m512i a, __m512i m, __m512i& lo, __m512i& hi) {
  const __m512i even = _mm512_mul_epu32(a, m), odd = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}
static inline void philox_rounds(uint32_t (&c0)[16], uint32_t (&c1)[16], uint32_t (&c2)[16], uint32_t (&c3)[16], uint32_t key0, uint32_t key1) {
  __m512i x0 = _mm512_loadu_si512(c0), x1 = _mm512_loadu_si512(c1), x2 = _mm512_loadu_si512(c2), x3 = _mm512_loadu_si512(c3);
  const __m512i m0 = _mm512_set1_epi32(static_cast<int>(0xD2511F53u)), m1 = _mm512_set1_epi32(static_cast<int>(0xCD9E8D57u));
  uint32_t k0 = key0, k1 = key1;
  for (int r = 0; r < 10; ++r) {
    __m512i lo0, hi0, lo1, hi1;
    mul_lo_hi(x0, m0, lo0, hi0);
    mul_lo_hi(x2, m1, lo1, hi1);
    x0 = _mm512_xor_si512(_mm512_xor_si512(hi1, x1), _mm512_set1_epi32(static_cast<int>(k0)));
    x2 = _mm512_xor_si512(_mm512_xor_si512(hi0, x3), _mm512_set1_epi32(static_cast<int>(k1)));
    x1 = lo1;
    x3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  _mm512_storeu_si512(c0, x0);
  _mm512_storeu_si512(c1, x1);
  _mm512_storeu_si512(c2, x2);
  _mm512_storeu_si512(c3, x3);
}
#pragma GCC diagnostic pop
#else
static inline void philox_rounds(uint32_t (&c0)[16], uint32_t (&c1)[16], uint32_t (&c2)[16], uint32_t (&c3)[16], uint32_t key0, uint32_t key1) {
  uint32_t k0 = key0, k1 = key1;
  for (int r = 0; r < 10; ++r) {
#pragma omp simd
    for (int j = 0; j < 16; ++j) {
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
}
#endif

void dropout_keep(uint64_t seed, uint64_t first_block, int64_t blocks, float p, uint8_t* keep) {
  constexpr int L = 16;  // blocks side by side, one per vector lane
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
    philox_rounds(c0, c1, c2, c3, key0, key1);
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
