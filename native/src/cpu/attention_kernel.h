// The flash-attention loops, written so the compiler vectorises them, and compiled once per ISA
// (attention_avx512.cpp, attention_avx2.cpp, attention.cpp for baseline x86-64): the includer
// defines TF_ATTN_NS. Forward: per (batch, head), per block of kBr queries, the K/V tiles of kBc keys
// with an online softmax over the scores held transposed (a row per key), never more than a kBc x
// kBr score tile; saves lse = m + log(l). Backward: per (batch, head), per key tile, recompute
// P = exp(S - lse) and accumulate dQ, dK, dV.
#include <cmath>
#include <cstdint>
#include <cstring>
#include "attention_problem.h"
#include "vector_math.h"

namespace tf::cpu::TF_ATTN_NS {

static inline V16 vload(const float* p) { return *reinterpret_cast<const V16*>(p); }
static inline void vstore(float* p, V16 v) { *reinterpret_cast<V16*>(p) = v; }

// With AVX-512's 32 vector registers, blocks of 8 rows (16 accumulators and their operands) fit:
// twice the multiply-adds per load of the 4-row blocks that the 16 AVX2 registers hold.
#ifdef __AVX512F__
constexpr bool kManyRegisters = true;
#else
constexpr bool kManyRegisters = false;
#endif

// RB rows of S = q k^T over `cols` columns (a multiple of 32; S's rows are cols long), 32 columns at
// a time, in registers; q's rows are ldq apart, kt's rows (one per d) ldk apart
template <int RB>
static inline void score_rows(const float* q, int64_t ldq, const float* kt, int64_t ldk, int64_t D, int64_t cols, float* S) {
  for (int64_t h = 0; h < cols; h += 32) {
    V16 acc[RB][2] = {};
    for (int64_t d = 0; d < D; ++d) {
      const V16 k0 = vload(kt + d * ldk + h), k1 = vload(kt + d * ldk + h + 16);
      for (int r = 0; r < RB; ++r) {
        const float qd = q[r * ldq + d];
        acc[r][0] += qd * k0;
        acc[r][1] += qd * k1;
      }
    }
    for (int r = 0; r < RB; ++r) {
      vstore(S + r * cols + h, acc[r][0]);
      vstore(S + r * cols + h + 16, acc[r][1]);
    }
  }
}

// S[r][c] = q_r . k_c for `rows` rows (q's rows ldq apart) and `cols` columns, a multiple of 32
// (S's rows are cols long); kt holds the columns' vectors transposed (rows ldk apart), zero-padded
static inline void tile_scores(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t D, int64_t cols, float* S) {
  int64_t r = 0;
  if constexpr (kManyRegisters)
    for (; r + 8 <= rows; r += 8) score_rows<8>(q + r * ldq, ldq, kt, ldk, D, cols, S + r * cols);
  for (; r + 4 <= rows; r += 4) score_rows<4>(q + r * ldq, ldq, kt, ldk, D, cols, S + r * cols);
  for (; r < rows; ++r) score_rows<1>(q + r * ldq, ldq, kt, ldk, D, cols, S + r * cols);
}

// acc[r] += sum_i P(r, i) x_i for RB rows, P(r, i) = P[r rs + i is], x's rows ldx apart, width =
// 16 NV, in registers
template <int NV, int RB>
static inline void accumulate_rows(const float* P, int64_t rs, int64_t is, int64_t inner, const float* x, int64_t ldx, float* acc) {
  constexpr int64_t W = 16 * NV;
  V16 a[RB][NV];
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NV; ++n) a[r][n] = vload(acc + r * W + 16 * n);
  for (int64_t i = 0; i < inner; ++i) {
    V16 xi[NV];
    for (int n = 0; n < NV; ++n) xi[n] = vload(x + i * ldx + 16 * n);
    for (int r = 0; r < RB; ++r) {
      const float pri = P[r * rs + i * is];
      for (int n = 0; n < NV; ++n) a[r][n] += pri * xi[n];
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NV; ++n) vstore(acc + r * W + 16 * n, a[r][n]);
}

template <int NV>
static inline void accumulate_block(const float* P, int64_t rs, int64_t is, int64_t rows, int64_t inner, const float* x, int64_t ldx, float* acc) {
  int64_t r = 0;
  if constexpr (kManyRegisters && NV <= 2)
    for (; r + 8 <= rows; r += 8) accumulate_rows<NV, 8>(P + r * rs, rs, is, inner, x, ldx, acc + r * 16 * NV);
  for (; r + 4 <= rows; r += 4) accumulate_rows<NV, 4>(P + r * rs, rs, is, inner, x, ldx, acc + r * 16 * NV);
  for (; r < rows; ++r) accumulate_rows<NV, 1>(P + r * rs, rs, is, inner, x, ldx, acc + r * 16 * NV);
}

// acc[rows x width] += P[rows x inner] X[inner x width], P read through strides (rs, is) so the
// same loop does P V and dS K (P as stored) and P^T dO and dS^T Q (P transposed); X's rows are ldx
// apart, acc's contiguous, width apart.
static inline void accumulate(const float* P, int64_t rs, int64_t is, int64_t rows, int64_t inner, const float* x, int64_t ldx, int64_t width, float* acc) {
  switch (width) {
    case 16: return accumulate_block<1>(P, rs, is, rows, inner, x, ldx, acc);
    case 32: return accumulate_block<2>(P, rs, is, rows, inner, x, ldx, acc);
    case 48: return accumulate_block<3>(P, rs, is, rows, inner, x, ldx, acc);
    case 64: return accumulate_block<4>(P, rs, is, rows, inner, x, ldx, acc);
    default:
      for (int64_t r = 0; r < rows; ++r) {
        float* a = acc + r * width;
        for (int64_t i = 0; i < inner; ++i) {
          const float pri = P[r * rs + i * is];
          const float* xi = x + i * ldx;
#pragma omp simd
          for (int64_t e = 0; e < width; ++e) a[e] += pri * xi[e];
        }
      }
  }
}

// -inf where a key is padding, after its query (causal), or past the tile's bc keys, in the
// backward's S[query][key] orientation (kBc columns)
static inline void apply_mask(const Problem& p, int64_t b, int64_t i0, int64_t br, int64_t j0, int64_t bc, float* S) {
  for (int64_t r = 0; r < br; ++r) {
    float* s = S + r * kBc;
    for (int64_t j = bc; j < kBc; ++j) s[j] = -INFINITY;
    if (p.mask)
      for (int64_t j = 0; j < bc; ++j)
        if (p.mask[b * p.Sk + j0 + j]) s[j] = -INFINITY;
    if (p.causal)
      for (int64_t j = 0; j < bc; ++j)
        if (j0 + j > i0 + r) s[j] = -INFINITY;
  }
}

// kt[d][j] = x[j0 + j][d] for bc keys (x's rows ldx apart), rows ld long (zero-padded)
static inline void transpose_tile(const float* x, int64_t ldx, int64_t j0, int64_t bc, int64_t D, float* kt, int64_t ld) {
  for (int64_t d = 0; d < D; ++d) {
    float* row = kt + d * ld;
    for (int64_t j = 0; j < bc; ++j) row[j] = x[(j0 + j) * ldx + d];
    for (int64_t j = bc; j < ld; ++j) row[j] = 0.0f;
  }
}

// One block of kBr queries from i0 of the head whose rows start at qh, kh, vh and oh. The scores of
// a tile are held transposed, S^T (a row per key, a column per query), computed from the keys' rows
// against the block's queries transposed once: the online softmax's running max and sum then run
// down the columns in vector registers, with no horizontal reduction per query, and K is read in
// place.
static void forward_block(const Problem& p, const float* qh, int64_t ldq, const float* kh, int64_t ldk, const float* vh, int64_t ldv, float* oh,
                          int64_t ldo, float* lse, int64_t bh, int64_t i0, Scratch& w) {
  static_assert(kBr % 32 == 0, "tile_scores computes 32 columns at a time");
  constexpr int NQ = kBr / 16;  // vectors across the block's queries
  const int64_t b = bh / p.H, br = std::min(kBr, p.Sq - i0), D = p.D, Dv = p.Dv;
  float* qt = w.q;  // qt[d][r] = q[i0 + r][d] * scale, zero past br
  for (int64_t r = 0; r < kBr; ++r)
    for (int64_t d = 0; d < D; ++d) qt[d * kBr + r] = r < br ? qh[(i0 + r) * ldq + d] * p.scale : 0.0f;
  V16 m[NQ], l[NQ];
  for (int n = 0; n < NQ; ++n) {
    m[n] = V16{} - INFINITY;
    l[n] = V16{};
  }
  std::fill(w.acc, w.acc + kBr * Dv, 0.0f);
  // causal: keys past the block's last query are masked for all of its queries
  const int64_t end = p.causal ? std::min(p.Sk, i0 + br) : p.Sk;
  for (int64_t j0 = 0; j0 < end; j0 += kBc) {
    const int64_t bc = std::min(kBc, end - j0);
    tile_scores(kh + j0 * ldk, ldk, bc, qt, kBr, D, kBr, w.S);
    for (int64_t j = 0; j < bc; ++j) {
      float* s = w.S + j * kBr;
      if (p.mask && p.mask[b * p.Sk + j0 + j]) std::fill(s, s + kBr, -INFINITY);
      else if (p.causal)
        for (int64_t r = 0; r < std::min(kBr, j0 + j - i0); ++r) s[r] = -INFINITY;  // key after query
    }
    V16 mx[NQ], base[NQ], corr[NQ], sum[NQ];
    for (int n = 0; n < NQ; ++n) mx[n] = m[n];
    for (int64_t j = 0; j < bc; ++j)
      for (int n = 0; n < NQ; ++n) {
        const V16 s = vload(w.S + j * kBr + 16 * n);
        mx[n] = s > mx[n] ? s : mx[n];
      }
    for (int n = 0; n < NQ; ++n) {
      base[n] = mx[n] == -INFINITY ? V16{} : mx[n];  // a query with no visible key yet: P = 0, not NaN
      corr[n] = vexp(m[n] - base[n]);
      sum[n] = V16{};
    }
    for (int64_t j = 0; j < bc; ++j)
      for (int n = 0; n < NQ; ++n) {
        float* s = w.S + j * kBr + 16 * n;
        const V16 e = vexp(vload(s) - base[n]);
        vstore(s, e);
        sum[n] += e;
      }
    float c[kBr];
    for (int n = 0; n < NQ; ++n) {
      l[n] = l[n] * corr[n] + sum[n];
      m[n] = mx[n];
      vstore(c + 16 * n, corr[n]);
    }
    if (j0 > 0)  // after the first tile: rescale what the earlier tiles accumulated
      for (int64_t r = 0; r < br; ++r)
        for (int64_t e = 0; e < Dv; ++e) w.acc[r * Dv + e] *= c[r];
    accumulate(w.S, 1, kBr, br, bc, vh + j0 * ldv, ldv, Dv, w.acc);  // acc += P V
  }
  float lv[kBr], mv[kBr];
  for (int n = 0; n < NQ; ++n) {
    vstore(lv + 16 * n, l[n]);
    vstore(mv + 16 * n, m[n]);
  }
  for (int64_t r = 0; r < br; ++r) {
    const float inv = lv[r] > 0.0f ? 1.0f / lv[r] : 0.0f;
    float* out = oh + (i0 + r) * ldo;
    for (int64_t e = 0; e < Dv; ++e) out[e] = w.acc[r * Dv + e] * inv;
    lse[bh * p.Sq + i0 + r] = lv[r] > 0.0f ? mv[r] + std::log(lv[r]) : -INFINITY;
  }
}

void forward(const Problem& p, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch& w) {
  for (int64_t i0 = 0; i0 < p.Sq; i0 += kBr)
    forward_block(p, q.head(bh, p.H), q.ss, k.head(bh, p.H), k.ss, v.head(bh, p.H), v.ss, o.head(bh, p.H), o.ss, lse, bh, i0, w);
}

// dq, dk and dv: contiguous (B, H, S, width)
void backward(const Problem& p, InRows q, InRows k, InRows v, InRows go, const float* lse, const float* dsum,
              float* dq, float* dk, float* dv, int64_t bh, Scratch& w) {
  const int64_t b = bh / p.H, D = p.D, Dv = p.Dv;
  const float *qh = q.head(bh, p.H), *kh = k.head(bh, p.H), *vh = v.head(bh, p.H), *gh = go.head(bh, p.H);
  const float *lh = lse + bh * p.Sq, *dh = dsum + bh * p.Sq;
  float *dqh = dq + bh * p.Sq * D, *dkh = dk + bh * p.Sk * D, *dvh = dv + bh * p.Sk * Dv;
  for (int64_t j0 = 0; j0 < p.Sk; j0 += kBc) {
    const int64_t bc = std::min(kBc, p.Sk - j0);
    transpose_tile(kh, k.ss, j0, bc, D, w.kt, kBc);
    transpose_tile(vh, v.ss, j0, bc, Dv, w.vt, kBc);
    for (int64_t i0 = p.causal ? j0 / kBr * kBr : 0; i0 < p.Sq; i0 += kBr) {
      const int64_t br = std::min(kBr, p.Sq - i0);
      for (int64_t r = 0; r < br; ++r)
        for (int64_t d = 0; d < D; ++d) w.q[r * D + d] = qh[(i0 + r) * q.ss + d] * p.scale;
      tile_scores(w.q, D, br, w.kt, kBc, D, kBc, w.S);
      apply_mask(p, b, i0, br, j0, bc, w.S);
      tile_scores(gh + i0 * go.ss, go.ss, br, w.vt, kBc, Dv, kBc, w.dP);  // dP = dO V^T
      for (int64_t r = 0; r < br; ++r) {
        float *s = w.S + r * kBc, *dp = w.dP + r * kBc;
        const float l = lh[i0 + r], di = dh[i0 + r];
        if (l == -INFINITY) {
          for (int64_t j = 0; j < kBc; ++j) s[j] = dp[j] = 0.0f;
          continue;
        }
#pragma omp simd
        for (int64_t j = 0; j < kBc; ++j) {
          s[j] = vexp(s[j] - l);                       // P
          dp[j] = s[j] * (dp[j] - di) * p.scale;       // dS, with the scale of Q K^T folded in
        }
      }
      accumulate(w.S, 1, kBc, bc, br, gh + i0 * go.ss, go.ss, Dv, dvh + j0 * Dv);  // dV += P^T dO
      accumulate(w.dP, 1, kBc, bc, br, qh + i0 * q.ss, q.ss, D, dkh + j0 * D);      // dK += dS^T Q
      accumulate(w.dP, kBc, 1, br, bc, kh + j0 * k.ss, k.ss, D, dqh + i0 * D);      // dQ += dS K
    }
  }
}

}  // namespace tf::cpu::TF_ATTN_NS
