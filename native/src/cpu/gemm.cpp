// Blocked GEMM driver (the BLIS loop nest): for each nc-wide column block and kc-deep slice, B is
// packed once into NR-wide panels shared by all threads; each thread packs MR-tall panels of its
// mc-row blocks of A and runs the micro-kernel of the active ISA over MR x NR tiles. Partial
// tiles at the edges go through a small buffer so the micro-kernel always sees a full tile.
#include <algorithm>
#include <cstring>
#include <memory>
#include <type_traits>
#include <vector>
#include "pack_cache.h"
#include "tensorforge/gemm.h"
#include "tensorforge/isa.h"
#include "tensorforge/parallel.h"

namespace tf::gemm {
namespace {

// KC in elements of k: 256 float32 or 512 bfloat16, the same bytes per packed panel
constexpr int64_t KC_BYTES = 1024, MC_PANELS = 16, NC = 4096;

template <class T>
inline T load(const void* base, DType d, int64_t off);
template <>
inline float load<float>(const void* base, DType d, int64_t off) {
  switch (d) {
    case DType::f32: return static_cast<const float*>(base)[off];
    case DType::bf16: return bf16_to_f32(static_cast<const uint16_t*>(base)[off]);
    default: return f16_to_f32(static_cast<const uint16_t*>(base)[off]);
  }
}
template <>
inline uint16_t load<uint16_t>(const void* base, DType, int64_t off) {  // bf16 path: raw bits
  return static_cast<const uint16_t*>(base)[off];
}

// Pack rows [r0, r0+rows) x k [k0, k0+kc) of a matrix with strides (s_r, s_k) into R-wide panels.
// f32 (PAIR=1): P[panel][k][r]; bf16 (PAIR=2): P[panel][k/2][r][k%2], kc padded to even; rows past
// the matrix and k past kc are zeros. X holds T already (float32, or bfloat16 bits).
template <class T, int R, int PAIR>
void pack_direct(const T* X, int64_t s_r, int64_t s_k, int64_t r0, int64_t rows, int64_t k0, int64_t kc, T* P) {
  const int64_t kcp = (kc + PAIR - 1) / PAIR * PAIR, pairs = kc / PAIR;
  for (int64_t p = 0; p < rows; p += R) {
    T* dst = P + (p / R) * kcp * R;
    const int rr = static_cast<int>(std::min<int64_t>(R, rows - p));
    const T* x = X + (r0 + p) * s_r + k0 * s_k;
    if (PAIR == 2 && s_k == 1) {
      // the two k of a pair sit side by side: one 32-bit copy per (pair, row)
      for (int64_t q = 0; q < pairs; ++q)
        for (int r = 0; r < R; ++r) {
          if (r < rr) std::memcpy(dst + (q * R + r) * 2, x + r * s_r + 2 * q, 4);
          else std::memset(dst + (q * R + r) * 2, 0, 4);
        }
    } else {
      for (int64_t q = 0; q < pairs; ++q)
        for (int u = 0; u < PAIR; ++u) {
          const T* src = x + (q * PAIR + u) * s_k;
          T* out = dst + q * R * PAIR + u;
          if (s_r == 1) for (int r = 0; r < rr; ++r) out[r * PAIR] = src[r];  // a contiguous run: vectorises
          else for (int r = 0; r < rr; ++r) out[r * PAIR] = src[r * s_r];
          for (int r = rr; r < R; ++r) out[r * PAIR] = T(0);
        }
    }
    // an odd kc: the last pair holds k = kc - 1 and a zero
    for (int64_t k = pairs * PAIR; k < kcp; ++k) {
      T* out = dst + (k / PAIR) * R * PAIR + (k % PAIR);
      for (int r = 0; r < R; ++r) out[r * PAIR] = k < kc && r < rr ? x[r * s_r + k * s_k] : T(0);
    }
  }
}

template <class T, int R, int PAIR>
void pack(const void* X, DType d, int64_t s_r, int64_t s_k, int64_t r0, int64_t rows, int64_t k0, int64_t kc, T* P) {
  // the AVX-512 kernels' panels (32 wide for B, 8 for A; the scalar kernel's 8-wide B panels too,
  // whence the ISA check) packed with vector code
  if ((R == kAvx512NR || R == kAvx512MR) && active_isa() >= Isa::avx512) {
    // rows along k (a linear layer's weight, a row-major A): transposed in registers, 32 bits at
    // a time: float32 elements, or the bf16 pairs of P's layout
    const bool f32 = std::is_same<T, float>::value && d == DType::f32;
    if constexpr (std::is_same<T, uint16_t>::value) {
      if (s_r == 1) {  // rows along n (a plain matmul's B) or m (a transposed A): k rows interleaved pairwise
        const int64_t kcp = (kc + 1) / 2 * 2;
        const auto panel = R == kAvx512NR ? pack_panel32_bf16_pairs_avx512 : pack_panel8_bf16_pairs_avx512;
        for (int64_t p = 0; p < rows; p += R)
          panel(static_cast<const T*>(X) + r0 + p + k0 * s_k, s_k, static_cast<int>(std::min<int64_t>(R, rows - p)), kc, P + (p / R) * kcp * R);
        return;
      }
    }
    if (s_k == 1 && s_r != 1 && (f32 || (PAIR == 2 && s_r % 2 == 0 && k0 % 2 == 0 && kc % 2 == 0))) {
      const float* x = reinterpret_cast<const float*>(static_cast<const T*>(X) + (r0 * s_r + k0));
      const auto panel = R == kAvx512NR ? pack_panel32_f32_avx512 : pack_panel8_f32_avx512;
      for (int64_t p = 0; p < rows; p += R)
        panel(x + p * s_r / PAIR, s_r / PAIR, static_cast<int>(std::min<int64_t>(R, rows - p)), kc / PAIR, reinterpret_cast<float*>(P + (p / R) * kc * R));
      return;
    }
  }
  if (std::is_same<T, uint16_t>::value || d == DType::f32)
    return pack_direct<T, R, PAIR>(static_cast<const T*>(X), s_r, s_k, r0, rows, k0, kc, P);
  // float16 / bfloat16 into float32 panels: convert element by element
  int64_t kcp = (kc + PAIR - 1) / PAIR * PAIR;
  for (int64_t p = 0; p < rows; p += R) {
    T* dst = P + (p / R) * kcp * R;
    int64_t rr = std::min<int64_t>(R, rows - p);
    for (int64_t k = 0; k < kcp; ++k) {
      T* row = dst + (k / PAIR) * R * PAIR + (k % PAIR);
      if (k >= kc) {
        for (int r = 0; r < R; ++r) row[r * PAIR] = T(0);
        continue;
      }
      int64_t base = (r0 + p) * s_r + (k0 + k) * s_k;
      int r = 0;
      for (; r < rr; ++r) row[r * PAIR] = load<T>(X, d, base + r * s_r);
      for (; r < R; ++r) row[r * PAIR] = T(0);
    }
  }
}

void ukr_scalar_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, const Epilogue& e) {
  constexpr int MR = kScalarMR, NR = kScalarNR;
  float acc[MR][NR] = {};
  for (int64_t k = 0; k < kc; ++k)
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j) acc[i][j] += Ap[k * MR + i] * Bp[k * NR + j];
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j)
      C[i * ldc + j] = acc[i][j] + (e.accumulate ? C[i * ldc + j] : 0.0f) + (e.bias ? e.bias[j] : 0.0f) + (e.residual ? e.residual[i * e.ldr + j] : 0.0f);
}

template <class T, int MR, int NR, int PAIR, class Ukr>
void blocked(const Args& g, Ukr ukr) {
  constexpr int64_t KC = KC_BYTES / (4 / PAIR);
  const int64_t MC = MR * MC_PANELS;
  const int64_t nthreads = g.parallel ? max_threads() : 1;
  static thread_local cpu::Aligned a_buf;
  static thread_local cpu::Aligned b_buf;  // the calling thread's; shared by the team for one call
  const int64_t kcp_max = (std::min(KC, g.K) + PAIR - 1) / PAIR * PAIR;
  const int64_t nc_max = std::min(NC, (g.N + NR - 1) / NR * NR);
  b_buf.reserve(sizeof(T) * kcp_max * nc_max);

  // every (jc, pc) block of packed B, back to back: kept in the pack cache when B comes again
  size_t b_elems = 0;
  for (int64_t jc = 0; jc < g.N; jc += NC)
    for (int64_t pc = 0; pc < g.K; pc += KC)
      b_elems += static_cast<size_t>((std::min(NC, g.N - jc) + NR - 1) / NR * NR * ((std::min(KC, g.K - pc) + PAIR - 1) / PAIR * PAIR));
  bool fill = false;
  std::shared_ptr<cpu::PackEntry> kept =
      cpu::kept_pack({g.b_storage, g.b_version, g.B, g.K, g.N, g.b_sk, g.b_sn, g.b_dtype, MR * 10000 + NR * 10 + PAIR}, sizeof(T) * b_elems, fill);
  size_t b_at = 0;

  for (int64_t jc = 0; jc < g.N; jc += NC) {
    const int64_t nc = std::min(NC, g.N - jc), n_panels = (nc + NR - 1) / NR;
    for (int64_t pc = 0; pc < g.K; pc += KC) {
      const int64_t kc = std::min(KC, g.K - pc), kcp = (kc + PAIR - 1) / PAIR * PAIR;
      T* Bp = kept ? static_cast<T*>(kept->data.p) + b_at : static_cast<T*>(b_buf.p);
      const bool pack_b = !kept || fill;
      b_at += static_cast<size_t>(n_panels * NR * kcp);
      const bool first = pc == 0, last = pc + kc >= g.K;
      const int64_t m_blocks = (g.M + MC - 1) / MC;
      // split columns too when there are fewer row blocks than threads
      const int64_t n_chunks = std::min<int64_t>(n_panels, std::max<int64_t>(1, (2 * nthreads + m_blocks - 1) / m_blocks));
      const int64_t panels_per_chunk = (n_panels + n_chunks - 1) / n_chunks;
      const int64_t items = m_blocks * n_chunks;
      const int threads = static_cast<int>(std::min<int64_t>(nthreads, std::max<int64_t>(items, n_panels)));
#pragma omp parallel num_threads(threads) if (threads > 1)
      {
        if (pack_b) {  // the same for every thread of the team, as a worksharing loop needs
#pragma omp for schedule(static)
          for (int64_t p = 0; p < n_panels; ++p) {
            int64_t cols = std::min<int64_t>(NR, nc - p * NR);
            pack<T, NR, PAIR>(g.B, g.b_dtype, g.b_sn, g.b_sk, jc + p * NR, cols, pc, kc, Bp + p * NR * kcp);
          }
        }
        a_buf.reserve(sizeof(T) * MC * kcp);
        T* Ap = static_cast<T*>(a_buf.p);
        int64_t packed_block = -1;
        float tile[MR * NR];
#pragma omp for schedule(static)
        for (int64_t item = 0; item < items; ++item) {
          // chunk-major: a thread's items share one chunk of B panels, which stays in its L2 across
          // the (at most three, when there are chunks) row blocks it repacks A for
          int64_t chunk = item / m_blocks, ib = item % m_blocks;
          int64_t ic = ib * MC, mc = std::min(MC, g.M - ic);
          if (packed_block != ib) {
            pack<T, MR, PAIR>(g.A, g.a_dtype, g.a_sm, g.a_sk, ic, mc, pc, kc, Ap);
            packed_block = ib;
          }
          int64_t p_end = std::min(n_panels, (chunk + 1) * panels_per_chunk);
          for (int64_t jp = chunk * panels_per_chunk; jp < p_end; ++jp) {
            int64_t jr = jp * NR, nr = std::min<int64_t>(NR, nc - jr);
            for (int64_t ir = 0; ir < mc; ir += MR) {
              int64_t mr = std::min<int64_t>(MR, mc - ir);
              float* C = g.C + (ic + ir) * g.ldc + jc + jr;
              const T* a = Ap + (ir / MR) * MR * kcp;
              const T* b = Bp + jp * NR * kcp;
              const Epilogue e{!first || g.beta != 0.0f, last && g.bias ? g.bias + jc + jr : nullptr,
                               last && g.residual ? g.residual + (ic + ir) * g.ldr + jc + jr : nullptr, g.ldr};
              if (mr == MR && nr == NR) {
                ukr(kcp / PAIR, a, b, C, g.ldc, e);
              } else {
                ukr(kcp / PAIR, a, b, tile, NR, Epilogue{});
                for (int64_t i = 0; i < mr; ++i)
                  for (int64_t j = 0; j < nr; ++j)
                    C[i * g.ldc + j] = tile[i * NR + j] + (e.accumulate ? C[i * g.ldc + j] : 0.0f) + (e.bias ? e.bias[j] : 0.0f) +
                                       (e.residual ? e.residual[i * e.ldr + j] : 0.0f);
              }
            }
          }
        }
      }
    }
  }
  if (fill) cpu::mark_ready(kept);
}

}  // namespace

void run(const Args& g) {
  if (g.M == 0 || g.N == 0) return;
  if (g.K == 0) {  // nothing to multiply: C = beta*C + bias + residual
    for (int64_t i = 0; i < g.M; ++i)
      for (int64_t j = 0; j < g.N; ++j)
        g.C[i * g.ldc + j] = (g.beta != 0.0f ? g.C[i * g.ldc + j] : 0.0f) + (g.bias ? g.bias[j] : 0.0f) + (g.residual ? g.residual[i * g.ldr + j] : 0.0f);
    return;
  }
  Isa isa = active_isa();
  if (isa == Isa::avx512_bf16 && g.a_dtype == DType::bf16 && g.b_dtype == DType::bf16)
    return blocked<uint16_t, kAvx512MR, kAvx512NR, 2>(g, ukr_avx512_bf16);
  if (isa >= Isa::avx512) return blocked<float, kAvx512MR, kAvx512NR, 1>(g, ukr_avx512_f32);
  if (isa == Isa::avx2) return blocked<float, kAvx2MR, kAvx2NR, 1>(g, ukr_avx2_f32);
  blocked<float, kScalarMR, kScalarNR, 1>(g, ukr_scalar_f32);
}

}  // namespace tf::gemm
