// exp and erf for float32 in plain arithmetic (no libm calls, no branches), so loops over them
// vectorise at whatever ISA the including file is compiled for. `static inline`: each per-ISA
// translation unit keeps its own copy.
#pragma once
#include <cstdint>
#include <cstring>

// 16 floats (and int32s) in GCC's vector extension: lowered to one zmm, two ymm or four xmm registers
// by the ISA the including file is compiled for; aligned(4) allows unaligned loads and stores. The
// helpers pass them by value; they are static inline, so the ABI note GCC gives for builds without
// AVX-512 concerns no real call.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float V16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t I16 __attribute__((vector_size(64), aligned(4)));

static inline V16 vload(const float* p) { return *reinterpret_cast<const V16*>(p); }
static inline void vstore(float* p, V16 v) { *reinterpret_cast<V16*>(p) = v; }

// the sum of the 16 lanes, folded in halves (log depth)
static inline float hsum(V16 v) {
  typedef float V8 __attribute__((vector_size(32), aligned(4)));
  typedef float V4 __attribute__((vector_size(16), aligned(4)));
  const V8 h = __builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15);
  const V4 q = __builtin_shufflevector(h, h, 0, 1, 2, 3) + __builtin_shufflevector(h, h, 4, 5, 6, 7);
  return (q[0] + q[2]) + (q[1] + q[3]);
}

// sum over j < n of f(x[j]), f taking a float or a V16: in two vector accumulators (consecutive adds
// do not wait on each other) folded by hsum. An `omp simd reduction` folded its lanes with 16
// dependent scalar adds, most of the time of a LayerNorm row of 128.
template <class F>
static inline float vsum(const float* x, int64_t n, F f) {
  V16 a = {}, b = {};
  int64_t j = 0;
  for (; j + 32 <= n; j += 32) {
    a += f(vload(x + j));
    b += f(vload(x + j + 16));
  }
  if (j + 16 <= n) {
    a += f(vload(x + j));
    j += 16;
  }
  float s = hsum(a + b);
  for (; j < n; ++j) s += f(x[j]);
  return s;
}

// 2^n for integral n in [-127, 128], by writing the float's exponent field
static inline float pow2_int(float n) {
  int32_t e = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, 4);
  return scale;
}
static inline V16 pow2_int(V16 n) { return reinterpret_cast<V16>((__builtin_convertvector(n, I16) + 127) << 23); }

// exp for float32 (F = float or V16, lane by lane) in [-inf, 88]: Cody-Waite range reduction and a
// degree-6 polynomial (cephes expf), within 2 ulp. Inputs below -87.3 (where float32 turns
// denormal) give 0.
template <class F>
static inline F vexp(F x) {
  x = x < -88.0f ? F{} - 88.0f : (x > 88.0f ? F{} + 88.0f : x);  // at -88 the exponent field below is 0: exactly 0
  F n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;  // round to nearest
  F f = x - n * 0.693359375f + n * 2.12194440e-4f;
  F p = F{} + 1.9875691500e-4f;
  p = p * f + 1.3981999507e-3f;
  p = p * f + 8.3334519073e-3f;
  p = p * f + 4.1665795894e-2f;
  p = p * f + 1.6666665459e-1f;
  p = p * f + 5.0000001201e-1f;
  p = p * f * f + f + 1.0f;
  return p * pow2_int(n);
}

// erf for float32 (F = float or V16, lane by lane): x P(x^2) / Q(x^2) on [-4, 4] (beyond it erf is
// +-1 in float32), the rational approximation used by XLA and Eigen; absolute error below 5e-7.
template <class F>
static inline F verf(F x) {
  x = x < -4.0f ? F{} - 4.0f : (x > 4.0f ? F{} + 4.0f : x);
  const F x2 = x * x;
  F p = F{} - 2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  F q = F{} - 1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}
