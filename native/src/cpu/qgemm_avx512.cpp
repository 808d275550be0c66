// AVX-512 VNNI int8 micro-kernel (8 rows x 32 columns, vpdpbusd) and activation quantisation.
#include <immintrin.h>
#include <algorithm>
#include <cstring>
#include "tensorforge/qgemm.h"
#include "vector_math.h"

namespace tf::qgemm {
namespace {
// acc += a (u8) . b (s8) in place. Around _mm512_dpbusd_epi32, whose accumulator is both source
// and destination, GCC 12 copied all 16 accumulators to other registers (two to the stack) on every
// k step; the kernel ran at about a third of the VPDPBUSD ceiling.
inline __m512i dpbusd(__m512i acc, __m512i a, __m512i b) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b));
  return acc;
}

// 16 floats to bfloat16, as dtype.h's f32_to_bf16 (nearest even; a NaN stays a quiet NaN), stored
// under mask m (that header is not included here: see loops_kernel.h's to_bf16)
inline void store_bf16(uint16_t* p, __mmask16 m, __m512 y) {
  const __m512i u = _mm512_castps_si512(y), hi = _mm512_srli_epi32(u, 16);
  const __m512i lsb = _mm512_and_si512(hi, _mm512_set1_epi32(1));
  const __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
  const __mmask16 nan = _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q);
  _mm512_mask_cvtepi32_storeu_epi16(p, m, _mm512_mask_or_epi32(rounded, nan, hi, _mm512_set1_epi32(0x40)));
}

// relu (NaN stays NaN, as sm::relu) or gelu with vector_math.h's erf
inline __m512 activate16(__m512 y, Act act) {
  if (act == Act::relu) return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(y, _mm512_setzero_ps(), _CMP_LT_OQ), y, _mm512_setzero_ps());
  const V16 x = reinterpret_cast<V16&>(y);
  const V16 g = 0.5f * x * (1.0f + verf(x * 0.70710678118654752f));
  return reinterpret_cast<const __m512&>(g);
}
}  // namespace

void ukr_avx512_vnni(const Tile& t, const PanelInfo<kVnniNR>& p) {
  constexpr int MR = kVnniMR;
  const uint8_t* row[MR];
  for (int i = 0; i < MR; ++i) row[i] = t.A + (i < t.rows ? i : 0) * t.lda;
  __m512i c0[MR], c1[MR];
#pragma GCC unroll 16  // not a loop: GCC 12 turns a zeroing loop into a memset of a stack copy (rep stos)
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_si512();
  // the tile's output (and residual) lines, requested now so that their misses overlap the products
  for (int i = 0; i < t.rows; ++i) {
    if (t.C16) _mm_prefetch(reinterpret_cast<const char*>(t.C16 + i * t.ldc), _MM_HINT_ET0);
    else {
      _mm_prefetch(reinterpret_cast<const char*>(t.C + i * t.ldc), _MM_HINT_ET0);
      _mm_prefetch(reinterpret_cast<const char*>(t.C + i * t.ldc + 16), _MM_HINT_ET0);
    }
    if (t.R) {
      _mm_prefetch(reinterpret_cast<const char*>(t.R + i * t.ldr), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(t.R + i * t.ldr + 16), _MM_HINT_T0);
    }
  }
  const int8_t* w = t.Wp;
  for (int64_t q = 0; q < t.kq; ++q, w += kVnniNR * 4) {
    const __m512i b0 = _mm512_loadu_si512(w), b1 = _mm512_loadu_si512(w + 64);
    for (int i = 0; i < MR; ++i) {
      int32_t a4;
      std::memcpy(&a4, row[i] + q * 4, 4);
      const __m512i a = _mm512_set1_epi32(a4);
      c0[i] = dpbusd(c0[i], a, b0);
      c1[i] = dpbusd(c1[i], a, b1);
    }
  }
  const uint32_t full = 0xffffu;
  const __mmask16 m0 = static_cast<__mmask16>(t.cols >= 16 ? full : (1u << t.cols) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(t.cols >= 32 ? full : t.cols <= 16 ? 0u : (1u << (t.cols - 16)) - 1);
  const __m512i off0 = _mm512_loadu_si512(p.offset), off1 = _mm512_loadu_si512(p.offset + 16);
  const __m512 ws0 = _mm512_loadu_ps(p.w_scale), ws1 = _mm512_loadu_ps(p.w_scale + 16);
  const __m512 bias0 = _mm512_loadu_ps(p.bias), bias1 = _mm512_loadu_ps(p.bias + 16);
#pragma GCC unroll 8  // unrolled, c0/c1 are indexed by constants and stay in registers
  for (int i = 0; i < MR; ++i) {
    if (i >= t.rows) break;
    const __m512 sa = _mm512_set1_ps(t.a_scale[i]);
    __m512 y0 = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(c0[i], off0)), _mm512_mul_ps(sa, ws0)), bias0);
    __m512 y1 = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(c1[i], off1)), _mm512_mul_ps(sa, ws1)), bias1);
    if (t.act != Act::none) {
      y0 = activate16(y0, t.act);
      y1 = activate16(y1, t.act);
    }
    if (t.R) {
      y0 = _mm512_add_ps(y0, _mm512_maskz_loadu_ps(m0, t.R + i * t.ldr));
      y1 = _mm512_add_ps(y1, _mm512_maskz_loadu_ps(m1, t.R + i * t.ldr + 16));
    }
    if (t.C16) {
      store_bf16(t.C16 + i * t.ldc, m0, y0);
      store_bf16(t.C16 + i * t.ldc + 16, m1, y1);
    } else {
      _mm512_mask_storeu_ps(t.C + i * t.ldc, m0, y0);
      _mm512_mask_storeu_ps(t.C + i * t.ldc + 16, m1, y1);
    }
  }
}

namespace {
// 16 activations as float32: loaded, or bf16 widened (its bits are the float's high half)
inline __m512 load16(const float* x) { return _mm512_loadu_ps(x); }
inline __m512 load16(const uint16_t* x) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x))), 16));
}
inline float widen(float x) { return x; }
inline float widen(uint16_t x) {
  const uint32_t u = static_cast<uint32_t>(x) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

template <class T>
float amax_of(const T* x, int64_t K) {
  __m512 m = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) m = _mm512_max_ps(m, _mm512_abs_ps(load16(x + k)));
  // through memory: GCC 12's _mm512_reduce_max_ps trips -Wuninitialized (GCC PR105593)
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, m);
  float amax = *std::max_element(lanes, lanes + 16);
  for (; k < K; ++k) amax = std::max(amax, std::fabs(widen(x[k])));
  return amax;
}

template <class T>
void quantize_row_of(const T* x, int64_t K, int64_t Kp, float inv, uint8_t* out) {
  const __m512 vinv = _mm512_set1_ps(inv), lo = _mm512_set1_ps(-kQMax), hi = _mm512_set1_ps(kQMax);
  const __m512i bias = _mm512_set1_epi32(128);
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    // round to nearest even, as std::nearbyint in the default mode
    __m512 q = _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(_mm512_mul_ps(load16(x + k), vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + k), _mm512_cvtepi32_epi8(_mm512_add_epi32(_mm512_cvtps_epi32(q), bias)));
  }
  for (; k < K; ++k) out[k] = static_cast<uint8_t>(quantize(widen(x[k]), inv) + 128);
  for (; k < Kp; ++k) out[k] = 128;
}
}  // namespace

float amax_avx512(const float* x, int64_t K) { return amax_of(x, K); }
float amax_bf16_avx512(const uint16_t* x, int64_t K) { return amax_of(x, K); }
void quantize_row_avx512(const float* x, int64_t K, int64_t Kp, float inv, uint8_t* out) { quantize_row_of(x, K, Kp, inv, out); }
void quantize_row_bf16_avx512(const uint16_t* x, int64_t K, int64_t Kp, float inv, uint8_t* out) { quantize_row_of(x, K, Kp, inv, out); }

}  // namespace tf::qgemm
