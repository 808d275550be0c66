// The flash-attention loops, written so the compiler vectorises them, and compiled once per ISA
// (attention_avx512.cpp, attention_avx2.cpp, attention.cpp for baseline x86-64): the includer
// defines TF_ATTN_NS. Forward: per (batch, head), K transposed once, then per block of kBr queries
// the K/V tiles of kBc keys with an online softmax, never more than a kBr x kBc score tile; saves
// lse = m + log(l). Backward: per (batch, head), per key tile, recompute P = exp(S - lse) and
// accumulate dQ, dK, dV.
#include <cmath>
#include <cstdint>
#include <cstring>
#include "attention_problem.h"
#include "vector_math.h"

namespace tf::cpu::TF_ATTN_NS {

// 16 floats in GCC's vector extension: lowered to one zmm, two ymm or four xmm registers by the ISA
// this file is compiled for; aligned(4) allows unaligned loads and stores.
// The helpers below pass V16 by value; they are static inline, so the ABI note GCC gives for
// builds without AVX-512 concerns no real call.
#pragma GCC diagnostic ignored "-Wpsabi"
typedef float V16 __attribute__((vector_size(64), aligned(4)));
static inline V16 vload(const float* p) { return *reinterpret_cast<const V16*>(p); }
static inline void vstore(float* p, V16 v) { *reinterpret_cast<V16*>(p) = v; }

// With AVX-512's 32 vector registers, blocks of 8 rows (16 accumulators and their operands) fit:
// twice the multiply-adds per load of the 4-row blocks that the 16 AVX2 registers hold.
#ifdef __AVX512F__
constexpr bool kManyRegisters = true;
#else
constexpr bool kManyRegisters = false;
#endif

// RB rows of S = q k^T over the kBc columns of a tile, 32 columns at a time, in registers; q's rows
// are ldq apart, kt's rows (one per d) ldk apart
template <int RB>
static inline void score_rows(const float* q, int64_t ldq, const float* kt, int64_t ldk, int64_t D, float* S) {
  for (int64_t h = 0; h < kBc; h += 32) {
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
      vstore(S + r * kBc + h, acc[r][0]);
      vstore(S + r * kBc + h + 16, acc[r][1]);
    }
  }
}

// S[r][j] = q_r . k_j (q pre-scaled, rows ldq apart) for a tile; kt is the tile transposed (rows ldk
// apart), zero-padded
static inline void tile_scores(const float* q, int64_t ldq, int64_t br, const float* kt, int64_t ldk, int64_t D, float* S) {
  int64_t r = 0;
  if constexpr (kManyRegisters)
    for (; r + 8 <= br; r += 8) score_rows<8>(q + r * ldq, ldq, kt, ldk, D, S + r * kBc);
  for (; r + 4 <= br; r += 4) score_rows<4>(q + r * ldq, ldq, kt, ldk, D, S + r * kBc);
  for (; r < br; ++r) score_rows<1>(q + r * ldq, ldq, kt, ldk, D, S + r * kBc);
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

// one block of kBr queries from i0 of the head whose rows start at qh, vh and oh, against its K
// transposed once into w.kt
static void forward_block(const Problem& p, const float* qh, int64_t ldq, const float* vh, int64_t ldv, float* oh, int64_t ldo, float* lse,
                          int64_t bh, int64_t i0, Scratch& w) {
  const int64_t b = bh / p.H, br = std::min(kBr, p.Sq - i0), D = p.D, Dv = p.Dv, ldk = keys_padded(p);
  for (int64_t r = 0; r < br; ++r)
    for (int64_t d = 0; d < D; ++d) w.q[r * D + d] = qh[(i0 + r) * ldq + d] * p.scale;
  for (int64_t r = 0; r < br; ++r) {
    w.m[r] = -INFINITY;
    w.l[r] = 0.0f;
    for (int64_t e = 0; e < Dv; ++e) w.acc[r * Dv + e] = 0.0f;
  }
  const int64_t end = p.causal ? std::min(p.Sk, i0 + br) : p.Sk;
  for (int64_t j0 = 0; j0 < end; j0 += kBc) {
    const int64_t bc = std::min(kBc, p.Sk - j0);
    tile_scores(w.q, D, br, w.kt + j0, ldk, D, w.S);
    apply_mask(p, b, i0, br, j0, bc, w.S);
    for (int64_t r = 0; r < br; ++r) {
      float* s = w.S + r * kBc;
      float mx = w.m[r];
#pragma omp simd reduction(max : mx)
      for (int64_t j = 0; j < kBc; ++j) mx = s[j] > mx ? s[j] : mx;
      if (mx == -INFINITY) {  // nothing visible in this row yet
        for (int64_t j = 0; j < kBc; ++j) s[j] = 0.0f;
        continue;
      }
      const float corr = vexp(w.m[r] - mx);
      float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
      for (int64_t j = 0; j < kBc; ++j) {
        s[j] = vexp(s[j] - mx);
        sum += s[j];
      }
      w.l[r] = w.l[r] * corr + sum;
      w.m[r] = mx;
      float* a = w.acc + r * Dv;
      for (int64_t e = 0; e < Dv; ++e) a[e] *= corr;
    }
    accumulate(w.S, kBc, 1, br, bc, vh + j0 * ldv, ldv, Dv, w.acc);  // acc += P V
  }
  for (int64_t r = 0; r < br; ++r) {
    const float inv = w.l[r] > 0.0f ? 1.0f / w.l[r] : 0.0f;
    float* out = oh + (i0 + r) * ldo;
    for (int64_t e = 0; e < Dv; ++e) out[e] = w.acc[r * Dv + e] * inv;
    lse[bh * p.Sq + i0 + r] = w.l[r] > 0.0f ? w.m[r] + std::log(w.l[r]) : -INFINITY;
  }
}

void forward(const Problem& p, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch& w) {
  transpose_tile(k.head(bh, p.H), k.ss, 0, p.Sk, p.D, w.kt, keys_padded(p));
  for (int64_t i0 = 0; i0 < p.Sq; i0 += kBr)
    forward_block(p, q.head(bh, p.H), q.ss, v.head(bh, p.H), v.ss, o.head(bh, p.H), o.ss, lse, bh, i0, w);
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
      tile_scores(w.q, D, br, w.kt, kBc, D, w.S);
      apply_mask(p, b, i0, br, j0, bc, w.S);
      tile_scores(gh + i0 * go.ss, go.ss, br, w.vt, kBc, Dv, w.dP);  // dP = dO V^T
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
