// AVX2 int8 micro-kernel (4 rows x 8 columns). AVX2 has no u8 x s8 dot product without int16
// saturation (vpmaddubsw), so both sides widen to int16 and vpmaddwd sums pairs into int32; the
// two halves of each 4-deep dot product are added once at the end.
#include <immintrin.h>
#include <algorithm>
#include <cstring>
#include "tensorforge/convert.h"
#include "tensorforge/qgemm.h"

namespace tf::qgemm {

void ukr_avx2(const Tile& t, const PanelInfo<kAvx2NR>& p) {
  constexpr int MR = kAvx2MR;
  const uint8_t* row[MR];
  for (int i = 0; i < MR; ++i) row[i] = t.A + (i < t.rows ? i : 0) * t.lda;
  __m256i lo[MR], hi[MR];  // columns 0-3 and 4-7, each as (k0k1, k2k3) pair sums
#pragma GCC unroll 16  // not a loop: GCC 12 turns a zeroing loop into a memset of a stack copy (rep stos)
  for (int i = 0; i < MR; ++i) lo[i] = hi[i] = _mm256_setzero_si256();
  const int8_t* w = t.Wp;
  for (int64_t q = 0; q < t.kq; ++q, w += kAvx2NR * 4) {
    __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w));
    __m256i b_lo = _mm256_cvtepi8_epi16(_mm256_castsi256_si128(b)), b_hi = _mm256_cvtepi8_epi16(_mm256_extracti128_si256(b, 1));
    for (int i = 0; i < MR; ++i) {
      int32_t a4;
      std::memcpy(&a4, row[i] + q * 4, 4);
      __m256i a = _mm256_cvtepu8_epi16(_mm_set1_epi32(a4));
      lo[i] = _mm256_add_epi32(lo[i], _mm256_madd_epi16(b_lo, a));
      hi[i] = _mm256_add_epi32(hi[i], _mm256_madd_epi16(b_hi, a));
    }
  }
  // hadd leaves the columns as 0 1 4 5 | 2 3 6 7
  const __m256i order = _mm256_setr_epi32(0, 1, 4, 5, 2, 3, 6, 7);
  const __m256i offset = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.offset));
  const __m256 w_scale = _mm256_loadu_ps(p.w_scale), bias = _mm256_loadu_ps(p.bias);
  // y for every row, unrolled and without a branch on the row count (with one, GCC 12 kept lo/hi in
  // a stack copy); a partial tile, a bf16 one or one with an activation goes through a buffer
  __m256 y[MR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) {
    const __m256i v = _mm256_sub_epi32(_mm256_permutevar8x32_epi32(_mm256_hadd_epi32(lo[i], hi[i]), order), offset);
    const float sa = t.a_scale[i < t.rows ? i : 0];
    y[i] = _mm256_add_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(v), _mm256_mul_ps(_mm256_set1_ps(sa), w_scale)), bias);
  }
  if (t.rows == MR && t.cols == kAvx2NR && !t.C16 && t.act == Act::none) {
#pragma GCC unroll 4
    for (int i = 0; i < MR; ++i)
      _mm256_storeu_ps(t.C + i * t.ldc, t.R ? _mm256_add_ps(y[i], _mm256_loadu_ps(t.R + i * t.ldr)) : y[i]);
    return;
  }
  alignas(32) float tmp[MR][kAvx2NR];
#pragma GCC unroll 4
  for (int i = 0; i < MR; ++i) _mm256_store_ps(tmp[i], y[i]);
  if (t.act != Act::none) activate(tmp[0], MR * kAvx2NR, t.act);
  for (int i = 0; i < t.rows; ++i) {
    if (t.R)
      for (int j = 0; j < t.cols; ++j) tmp[i][j] += t.R[i * t.ldr + j];
    if (t.C16) f32_run_to_bf16(tmp[i], t.C16 + i * t.ldc, t.cols);  // baseline code, as activate
    else std::copy(tmp[i], tmp[i] + t.cols, t.C + i * t.ldc);
  }
}

float amax_avx2(const float* x, int64_t K) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + k)));
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, m);
  float amax = *std::max_element(lanes, lanes + 8);
  for (; k < K; ++k) amax = std::max(amax, std::fabs(x[k]));
  return amax;
}

void quantize_row_avx2(const float* x, int64_t K, int64_t Kp, float inv, uint8_t* out) {
  const __m256 vinv = _mm256_set1_ps(inv), lo = _mm256_set1_ps(-kQMax), hi = _mm256_set1_ps(kQMax);
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 q = _mm256_min_ps(_mm256_max_ps(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), lo), hi);
    alignas(32) int32_t v[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(v), _mm256_cvtps_epi32(q));
    for (int u = 0; u < 8; ++u) out[k + u] = static_cast<uint8_t>(v[u] + 128);
  }
  for (; k < K; ++k) out[k] = static_cast<uint8_t>(quantize(x[k], inv) + 128);
  for (; k < Kp; ++k) out[k] = 128;
}

}  // namespace tf::qgemm
