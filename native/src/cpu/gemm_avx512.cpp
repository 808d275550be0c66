// AVX-512 float32 micro-kernel, 8 x 32: 16 accumulators, two B vectors and one A broadcast per k.
// Compiled with -mavx512f; only called when the CPU has AVX-512.
#include <immintrin.h>
#include "tensorforge/gemm.h"
#include "gemm_avx512_tile.h"

namespace tf::gemm {

void ukr_avx512_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, const Epilogue& e) {
  constexpr int MR = kAvx512MR;
  __m512 c0[MR], c1[MR];
#pragma GCC unroll 16  // not a loop: GCC 12 turns a zeroing loop into a memset of a stack copy (rep stos)
  for (int i = 0; i < MR; ++i) c0[i] = c1[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m512 b0 = _mm512_loadu_ps(Bp + k * 32), b1 = _mm512_loadu_ps(Bp + k * 32 + 16);
    for (int i = 0; i < MR; ++i) {
      __m512 a = _mm512_set1_ps(Ap[k * MR + i]);
      c0[i] = _mm512_fmadd_ps(a, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(a, b1, c1[i]);
    }
  }
  store_tile_avx512<MR>(c0, c1, C, ldc, e);
}

namespace {
// GCC 12 reports the unpack intrinsics' deliberately undefined pass-through operand as maybe
// uninitialised (GCC bug 105593, fixed in 13)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
// r[j] becomes column j of the 16 x 16 block whose row i was r[i]
inline void transpose16(__m512 (&r)[16]) {
  __m512 t[16], u[16];
  for (int i = 0; i < 16; i += 2) {  // pairs of rows, within 128-bit lanes
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {  // lane L of u[i + c] holds column 4L + c of rows i .. i + 3
    const __m512d a = _mm512_castps_pd(t[i]), b = _mm512_castps_pd(t[i + 1]), c = _mm512_castps_pd(t[i + 2]), d = _mm512_castps_pd(t[i + 3]);
    u[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
    u[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
    u[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
    u[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
  }
  for (int c = 0; c < 4; ++c) {  // gather lane L of the four row groups: column 4L + c
    const __m512 v0 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), v1 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE);
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44), v3 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    r[c] = _mm512_shuffle_f32x4(v0, v2, 0x88);
    r[4 + c] = _mm512_shuffle_f32x4(v0, v2, 0xDD);
    r[8 + c] = _mm512_shuffle_f32x4(v1, v3, 0x88);
    r[12 + c] = _mm512_shuffle_f32x4(v1, v3, 0xDD);
  }
}
#pragma GCC diagnostic pop
}  // namespace

void pack_panel32_f32_avx512(const float* X, int64_t s_r, int rows, int64_t kc, float* P) {
  const int64_t kv = kc / 16 * 16;
  for (int64_t k = 0; k < kv; k += 16)
    for (int half = 0; half < 2; ++half) {
      __m512 r[16];
      for (int i = 0; i < 16; ++i) r[i] = half * 16 + i < rows ? _mm512_loadu_ps(X + (half * 16 + i) * s_r + k) : _mm512_setzero_ps();
      transpose16(r);
      for (int j = 0; j < 16; ++j) _mm512_storeu_ps(P + (k + j) * 32 + half * 16, r[j]);
    }
  for (int64_t k = kv; k < kc; ++k)
    for (int i = 0; i < 32; ++i) P[k * 32 + i] = i < rows ? X[i * s_r + k] : 0.0f;
}

void pack_panel32_bf16_pairs_avx512(const uint16_t* X, int64_t s_k, int rows, int64_t kc, uint16_t* P) {
  const __mmask32 m = rows >= 32 ? 0xFFFFFFFFu : static_cast<__mmask32>((1u << rows) - 1);
  // output element 2 r + u of a pair is row r of k-row u: take a[r] and b[r] in turn
  alignas(64) static const uint16_t lo_idx[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39,
                                                  8, 40, 9, 41, 10, 42, 11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
  const __m512i lo = _mm512_load_si512(lo_idx), hi = _mm512_add_epi16(lo, _mm512_set1_epi16(16));
  for (int64_t q = 0; q < (kc + 1) / 2; ++q) {
    const __m512i a = _mm512_maskz_loadu_epi16(m, X + 2 * q * s_k);
    const __m512i b = 2 * q + 1 < kc ? _mm512_maskz_loadu_epi16(m, X + (2 * q + 1) * s_k) : _mm512_setzero_si512();
    _mm512_storeu_si512(P + q * 64, _mm512_permutex2var_epi16(a, lo, b));
    _mm512_storeu_si512(P + q * 64 + 32, _mm512_permutex2var_epi16(a, hi, b));
  }
}

void pack_panel8_f32_avx512(const float* X, int64_t s_r, int rows, int64_t kc, float* P) {
  const int64_t kv = kc / 8 * 8;
  for (int64_t k = 0; k < kv; k += 8) {
    __m256 r[8];
    for (int i = 0; i < 8; ++i) r[i] = i < rows ? _mm256_loadu_ps(X + i * s_r + k) : _mm256_setzero_ps();
    // 8 x 8 transpose: pairs of rows, then quads within 128-bit lanes, then the lanes
    __m256 t[8], q[8];
    for (int i = 0; i < 8; i += 2) {
      t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
      t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
      q[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
      q[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
      q[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
      q[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int j = 0; j < 4; ++j) {  // column j from the low lanes, column 4 + j from the high ones
      _mm256_storeu_ps(P + (k + j) * 8, _mm256_permute2f128_ps(q[j], q[4 + j], 0x20));
      _mm256_storeu_ps(P + (k + 4 + j) * 8, _mm256_permute2f128_ps(q[j], q[4 + j], 0x31));
    }
  }
  for (int64_t k = kv; k < kc; ++k)
    for (int i = 0; i < 8; ++i) P[k * 8 + i] = i < rows ? X[i * s_r + k] : 0.0f;
}

void pack_panel8_bf16_pairs_avx512(const uint16_t* X, int64_t s_k, int rows, int64_t kc, uint16_t* P) {
  const __mmask8 m = static_cast<__mmask8>(rows >= 8 ? 0xFF : (1u << rows) - 1);
  for (int64_t q = 0; q < (kc + 1) / 2; ++q) {
    const __m128i a = _mm_maskz_loadu_epi16(m, X + 2 * q * s_k);
    const __m128i b = 2 * q + 1 < kc ? _mm_maskz_loadu_epi16(m, X + (2 * q + 1) * s_k) : _mm_setzero_si128();
    _mm_storeu_si128(reinterpret_cast<__m128i*>(P + q * 16), _mm_unpacklo_epi16(a, b));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(P + q * 16 + 8), _mm_unpackhi_epi16(a, b));
  }
}

}  // namespace tf::gemm
