// Int8 GEMM driver: quantise the activation rows once (u8, K padded to 4), pack the weights into
// NR-wide panels with their epilogue data, then run the micro-kernel of the active ISA over
// (panel, row tile) items split across the threads. K is not blocked: transformer K fits in L1/L2.
#include <algorithm>
#include <cstring>
#include <vector>
#include "tensorforge/convert.h"
#include "tensorforge/host_alloc.h"
#include "tensorforge/isa.h"
#include "tensorforge/parallel.h"
#include "tensorforge/qgemm.h"
#include "tensorforge/scalar_math.h"
#include "pack_cache.h"

namespace tf::qgemm {
namespace {

float amax_scalar(const float* x, int64_t K) {
  float amax = 0.0f;
  for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(x[k]));
  return amax;
}

void quantize_row_scalar(const float* x, int64_t K, int64_t Kp, float inv, uint8_t* out) {
  for (int64_t k = 0; k < K; ++k) out[k] = static_cast<uint8_t>(quantize(x[k], inv) + 128);
  for (int64_t k = K; k < Kp; ++k) out[k] = 128;
}

// The AVX2 layout ([K/4][8][4]) with plain loops.
void ukr_scalar(const Tile& t, const PanelInfo<kAvx2NR>& p) {
  for (int i = 0; i < t.rows; ++i) {
    const uint8_t* a = t.A + i * t.lda;
    for (int j = 0; j < t.cols; ++j) {
      int32_t acc = 0;
      for (int64_t q = 0; q < t.kq; ++q)
        for (int u = 0; u < 4; ++u) acc += int32_t(a[q * 4 + u]) * int32_t(t.Wp[(q * kAvx2NR + j) * 4 + u]);
      float y = static_cast<float>(acc - p.offset[j]) * (t.a_scale[i] * p.w_scale[j]) + p.bias[j];
      activate(&y, 1, t.act);
      if (t.R) y += t.R[i * t.ldr + j];
      if (t.C16) t.C16[i * t.ldc + j] = f32_to_bf16(y);
      else t.C[i * t.ldc + j] = y;
    }
  }
}

// One NR-wide panel of W ([K/4][NR][4] int8, zero padded) and its columns' 128 * sum_k w
template <int NR>
void pack_panel(const Args& g, int64_t n0, int64_t Kp, int8_t* dst, int32_t* offset) {
  int64_t cols = std::min<int64_t>(NR, g.N - n0);
  if (cols < NR || g.K % 4 != 0 || g.w_sk != 1) std::memset(dst, 0, static_cast<size_t>(Kp * NR));
  for (int j = 0; j < NR; ++j) {
    int32_t sum = 0;
    if (j < cols) {
      const int8_t* w = g.W + (n0 + j) * g.w_sn;
      if (g.w_sk == 1) {  // a contiguous row: 4 weights at a time, and a sum the compiler vectorises
        for (int64_t q = 0; q < g.K / 4; ++q) std::memcpy(dst + (q * NR + j) * 4, w + q * 4, 4);
        for (int64_t k = g.K / 4 * 4; k < g.K; ++k) dst[((k / 4) * NR + j) * 4 + k % 4] = w[k];
        for (int64_t k = 0; k < g.K; ++k) sum += w[k];
      } else {
        for (int64_t k = 0; k < g.K; ++k) {
          int8_t v = w[k * g.w_sk];
          dst[((k / 4) * NR + j) * 4 + k % 4] = v;
          sum += v;
        }
      }
    }
    offset[j] = 128 * sum;
  }
}

constexpr int64_t kTilesPerBlock = 8;  // row tiles per work item

// the row loops of one ISA
struct RowOps {
  float (*amax)(const float* x, int64_t K);
  void (*quantize)(const float* x, int64_t K, int64_t Kp, float inv, uint8_t* out);
  // from bf16 rows directly, or null: such rows are widened to float32 first
  float (*amax16)(const uint16_t* x, int64_t K) = nullptr;
  void (*quantize16)(const uint16_t* x, int64_t K, int64_t Kp, float inv, uint8_t* out) = nullptr;
};

template <int MR, int NR, class Ukr>
void blocked(const Args& g, Ukr ukr, RowOps rows) {
  const int64_t Kp = (g.K + 3) / 4 * 4, n_panels = (g.N + NR - 1) / NR, m_tiles = (g.M + MR - 1) / MR;
  host::Buffer<uint8_t> a(static_cast<size_t>(g.M * Kp));
  host::FloatBuffer a_scale(static_cast<size_t>(g.M));
  host::Buffer<PanelInfo<NR>> info(static_cast<size_t>(n_panels));
  // the packed weights and their column sums: kept across calls, or packed for this one
  const size_t w_bytes = static_cast<size_t>(n_panels * Kp * NR), sum_bytes = static_cast<size_t>(n_panels * NR) * sizeof(int32_t);
  bool fill = false;
  std::shared_ptr<cpu::PackEntry> kept =
      cpu::kept_pack({g.w_storage, g.w_version, g.W, g.N, g.K, g.w_sn, g.w_sk, DType::i8, MR * 10000 + NR * 10}, sum_bytes + w_bytes, fill);
  static thread_local cpu::Aligned own;
  if (!kept) own.reserve(sum_bytes + w_bytes);
  char* packed = static_cast<char*>(kept ? kept->data.p : own.p);
  int32_t* sums = reinterpret_cast<int32_t*>(packed);
  int8_t* w = reinterpret_cast<int8_t*>(packed + sum_bytes);
  const bool fixed = g.static_scale > 0.0f;  // static: one scale for every row
  auto quantize_rows = [&](int64_t b, int64_t e) {
    const bool direct16 = g.X16 && rows.amax16;
    std::vector<float> wide(g.X16 && !direct16 ? static_cast<size_t>(g.K) : 0);  // a bf16 row as float32
    for (int64_t i = b; i < e; ++i) {
      const uint16_t* x16 = g.X16 ? g.X16 + i * g.K : nullptr;
      const float* x = g.X16 ? wide.data() : g.X + i * g.K;
      if (x16 && !direct16) bf16_run_to_f32(x16, wide.data(), g.K);
      const float amax = fixed ? 0.0f : direct16 ? rows.amax16(x16, g.K) : rows.amax(x, g.K);
      const float inv = fixed ? 1.0f / g.static_scale : inv_scale_of(amax);
      if (direct16) rows.quantize16(x16, g.K, Kp, inv, a.data() + i * Kp);
      else rows.quantize(x, g.K, Kp, inv, a.data() + i * Kp);
      a_scale.data()[i] = fixed ? g.static_scale : scale_of(amax);
    }
  };
  if (!kept || fill) {
    parallel_for(n_panels, Kp * NR, [&](int64_t b, int64_t e) {
      for (int64_t p = b; p < e; ++p) pack_panel<NR>(g, p * NR, Kp, w + p * Kp * NR, sums + p * NR);
    });
    if (fill) cpu::mark_ready(kept);
  }
  for (int64_t p = 0; p < n_panels; ++p) {  // the epilogue's data: sums, and the scales and bias of this call
    PanelInfo<NR>& in = info.data()[p];
    for (int j = 0; j < NR; ++j) {
      const int64_t n = p * NR + j;
      in.offset[j] = sums[n];
      in.w_scale[j] = n < g.N ? g.w_scale[n] : 0.0f;
      in.bias[j] = n < g.N && g.bias ? g.bias[n] : 0.0f;
    }
  }
  // items (block of row tiles, panel), row-block-major: a thread keeps its block of A in L1/L2 while
  // it walks the weight panels (all of W stays in L2 at transformer sizes); panel-major items
  // streamed the whole of A from L3 once per panel
  const int64_t m_blocks = (m_tiles + kTilesPerBlock - 1) / kTilesPerBlock, block_rows = kTilesPerBlock * MR;
  auto run_item = [&](int64_t mb, int64_t p) {
    for (int64_t tile = mb * kTilesPerBlock; tile < std::min(m_tiles, (mb + 1) * kTilesPerBlock); ++tile) {
      const int64_t i0 = tile * MR;
      Tile t{Kp / 4, a.data() + i0 * Kp, Kp, static_cast<int>(std::min<int64_t>(MR, g.M - i0)), a_scale.data() + i0,
             w + p * Kp * NR, g.C ? g.C + i0 * g.ldc + p * NR : nullptr, g.ldc, static_cast<int>(std::min<int64_t>(NR, g.N - p * NR)),
             g.residual ? g.residual + i0 * g.ldr + p * NR : nullptr, g.ldr, g.C16 ? g.C16 + i0 * g.ldc + p * NR : nullptr, g.act};
      ukr(t, info.data()[p]);
    }
  };
  const int64_t item_cost = block_rows * NR * Kp / 16;
  if (m_blocks >= max_threads()) {
    // a row block per thread at least: each thread quantises the rows of its own blocks, then
    // multiplies them, in one fork and while they are still in its cache
    parallel_for(m_blocks, item_cost * n_panels, [&](int64_t b, int64_t e) {
      quantize_rows(b * block_rows, std::min(g.M, e * block_rows));
      for (int64_t mb = b; mb < e; ++mb)
        for (int64_t p = 0; p < n_panels; ++p) run_item(mb, p);
    });
    return;
  }
  parallel_for(g.M, Kp, quantize_rows);
  parallel_for(m_blocks * n_panels, item_cost, [&](int64_t b, int64_t e) {
    for (int64_t item = b; item < e; ++item) run_item(item / n_panels, item % n_panels);
  });
}

}  // namespace

void activate(float* y, int64_t n, Act act) {
  for (int64_t i = 0; i < n; ++i) y[i] = sm::activation(y[i], static_cast<int>(act));
}

void run(const Args& g) {
  if (g.M == 0 || g.N == 0) return;
  Isa isa = active_isa();
  if (isa >= Isa::avx512 && cpu_has_vnni()) return blocked<kVnniMR, kVnniNR>(g, ukr_avx512_vnni, RowOps{amax_avx512, quantize_row_avx512, amax_bf16_avx512, quantize_row_bf16_avx512});
  if (isa >= Isa::avx2) return blocked<kAvx2MR, kAvx2NR>(g, ukr_avx2, RowOps{amax_avx2, quantize_row_avx2});
  blocked<kAvx2MR, kAvx2NR>(g, ukr_scalar, RowOps{amax_scalar, quantize_row_scalar});
}

}  // namespace tf::qgemm
