// Int8 GEMM with int32 accumulation for quantised linear layers:
//   C[m, n] = (sum_k qa[m, k] * qw[n, k]) * a_scale[m] * w_scale[n] + bias[n]
// qa: activations quantised per row (symmetric, dynamic) or with one static scale; qw: weights
// quantised per output channel (symmetric). Activations are stored as u8 = q + 128 so AVX-512 VNNI
// (vpdpbusd: u8 x s8) can multiply them; the 128 * sum_k qw[n, k] this adds is subtracted in the
// epilogue, where the scales and bias are applied too (one pass over C).
#pragma once
#include <cmath>
#include <cstdint>
#include <vector>
#include "tensorforge/dtype.h"

namespace tf::qgemm {

constexpr int kQMax = 127;
// K is accumulated in int32 without blocking: 255 * 127 * K must stay below 2^31
constexpr int64_t kMaxK = 65536;

// The quantisation rule of activations and weights (kernels and references must agree bit for bit):
// scale = amax / 127 (1 when the row is all zeros), q = clamp(round_half_even(x * (127 / amax))).
inline float scale_of(float amax) { return amax > 0.0f ? amax / static_cast<float>(kQMax) : 1.0f; }
inline float inv_scale_of(float amax) { return amax > 0.0f ? static_cast<float>(kQMax) / amax : 1.0f; }
inline int32_t quantize(float x, float inv) {
  float q = std::nearbyint(x * inv);
  return static_cast<int32_t>(q > kQMax ? kQMax : q < -kQMax ? -kQMax : q);
}

// An activation applied in the epilogue, after the bias (the op has no residual then).
enum class Act : int { none = 0, relu = 1, gelu = 2 };
// linear_int8's activation: its attr 3, absent meaning none (checked by the op's infer)
inline Act activation_of(const std::vector<double>& attrs) { return attrs.size() > 3 ? static_cast<Act>(static_cast<int>(attrs[3])) : Act::none; }
// y[0, n) = act(y), in baseline code (the micro-kernels' buffered paths call it)
void activate(float* y, int64_t n, Act act);

// The epilogue's inputs for one NR-wide panel of output columns (padded to NR).
template <int NR>
struct PanelInfo {
  float w_scale[NR];
  int32_t offset[NR];  // 128 * sum_k qw[n, k]
  float bias[NR];      // zeros when there is no bias
};

// Micro-kernels: rows [0, rows) of C (rows <= MR) x cols [0, cols) of one panel. A: u8 rows,
// `lda` bytes apart, K padded to a multiple of 4; Wp: the panel, [K/4][NR][4] int8; R: the same
// tile of a residual added after the bias (rows ldr apart), or null.
// The rows beyond `rows` read row 0 and are not stored. C16: the tile of a bfloat16 output (C's
// rows rounded to nearest even, ldc apart) instead of C, or null; act: after the bias.
struct Tile {
  int64_t kq;  // K / 4
  const uint8_t* A; int64_t lda; int rows;
  const float* a_scale;
  const int8_t* Wp;
  float* C; int64_t ldc; int cols;
  const float* R = nullptr; int64_t ldr = 0;
  uint16_t* C16 = nullptr;
  Act act = Act::none;
};
constexpr int kVnniMR = 8, kVnniNR = 32;
constexpr int kAvx2MR = 4, kAvx2NR = 8;
void ukr_avx512_vnni(const Tile& t, const PanelInfo<kVnniNR>& p);
void ukr_avx2(const Tile& t, const PanelInfo<kAvx2NR>& p);
// max |x| of a row (dynamic quantisation), and a row of float activations to u8 (q + 128) with
// 1/scale `inv`, K padded with 128 (q = 0)
float amax_avx512(const float* x, int64_t K);
float amax_avx2(const float* x, int64_t K);
void quantize_row_avx512(const float* x, int64_t K, int64_t Kp, float inv, uint8_t* out);
// the same from bfloat16 rows (AVX-512; other ISAs widen a row to float32 first)
float amax_bf16_avx512(const uint16_t* x, int64_t K);
void quantize_row_bf16_avx512(const uint16_t* x, int64_t K, int64_t Kp, float inv, uint8_t* out);
void quantize_row_avx2(const float* x, int64_t K, int64_t Kp, float inv, uint8_t* out);

struct Args {
  int64_t M = 0, N = 0, K = 0;
  const float* X = nullptr;          // [M, K], contiguous
  const uint16_t* X16 = nullptr;     // or bfloat16 [M, K], contiguous
  float static_scale = 0.0f;         // > 0: one activation scale for all rows; else per row
  const int8_t* W = nullptr; int64_t w_sn = 0, w_sk = 0;  // [N, K] through strides
  const float* w_scale = nullptr;    // [N]
  const float* bias = nullptr;       // [N] or null
  const float* residual = nullptr; int64_t ldr = 0;  // [M, N] rows ldr apart, or null
  float* C = nullptr; int64_t ldc = 0;
  uint16_t* C16 = nullptr;           // a bfloat16 output instead of C (rows ldc apart)
  Act act = Act::none;
  uint64_t w_storage = 0, w_version = 0;  // W's buffer and write count (View::storage_id, version); 0: unknown
};

// W's packed panels and column sums are kept across calls when the same W comes again
// (native/src/cpu/pack_cache.h).
void run(const Args& args);

}  // namespace tf::qgemm
