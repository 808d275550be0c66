// The flash-attention loops, written so the compiler vectorises them, and compiled once per ISA
// (attention_avx512.cpp, attention_avx2.cpp, attention.cpp for baseline x86-64): the includer
// defines TF_ATTN_NS. Forward: per (batch, head, block of kBr queries), K/V tiles of kBc keys with an
// online softmax, never more than a kBr x kBc score tile; saves lse = m + log(l). Backward: per
// (batch, head), per key tile, recompute P = exp(S - lse) and accumulate dQ, dK, dV.
#include <cmath>
#include <cstdint>
#include <cstring>
#include "attention_problem.h"
#include "vector_math.h"

namespace tf::cpu::TF_ATTN_NS {

// S[r][j] = q_r . k_j (q pre-scaled) for a tile, plus the mask bias (0 or -inf)
static inline void tile_scores(const float* q, int64_t br, const float* kt, int64_t bc, int64_t D, float* S) {
  for (int64_t r = 0; r < br; ++r) {
    float* s = S + r * kBc;
    for (int64_t j = 0; j < kBc; ++j) s[j] = 0.0f;
    for (int64_t d = 0; d < D; ++d) {
      const float qd = q[r * D + d];
      const float* k = kt + d * kBc;
#pragma omp simd
      for (int64_t j = 0; j < kBc; ++j) s[j] += qd * k[j];
    }
  }
  (void)bc;
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

// kt[d][j] = x[j0 + j][d] for a tile (zero-padded to kBc)
static inline void transpose_tile(const float* x, int64_t j0, int64_t bc, int64_t D, float* kt) {
  for (int64_t d = 0; d < D; ++d) {
    float* row = kt + d * kBc;
    for (int64_t j = 0; j < bc; ++j) row[j] = x[(j0 + j) * D + d];
    for (int64_t j = bc; j < kBc; ++j) row[j] = 0.0f;
  }
}

void forward(const Problem& p, const float* q, const float* k, const float* v, float* o, float* lse, int64_t bh, int64_t i0, Scratch& w) {
  const int64_t b = bh / p.H, br = std::min(kBr, p.Sq - i0), D = p.D, Dv = p.Dv;
  const float *kh = k + bh * p.Sk * D, *vh = v + bh * p.Sk * Dv;
  for (int64_t r = 0; r < br; ++r)
    for (int64_t d = 0; d < D; ++d) w.q[r * D + d] = q[(bh * p.Sq + i0 + r) * D + d] * p.scale;
  for (int64_t r = 0; r < br; ++r) {
    w.m[r] = -INFINITY;
    w.l[r] = 0.0f;
    for (int64_t e = 0; e < Dv; ++e) w.acc[r * Dv + e] = 0.0f;
  }
  const int64_t end = p.causal ? std::min(p.Sk, i0 + br) : p.Sk;
  for (int64_t j0 = 0; j0 < end; j0 += kBc) {
    const int64_t bc = std::min(kBc, p.Sk - j0);
    transpose_tile(kh, j0, bc, D, w.kt);
    tile_scores(w.q, br, w.kt, bc, D, w.S);
    apply_mask(p, b, i0, br, j0, bc, w.S);
    for (int64_t r = 0; r < br; ++r) {
      float* s = w.S + r * kBc;
      float mx = w.m[r];
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
      for (int64_t j = 0; j < bc; ++j) {
        const float pj = s[j];
        const float* vr = vh + (j0 + j) * Dv;
#pragma omp simd
        for (int64_t e = 0; e < Dv; ++e) a[e] += pj * vr[e];
      }
    }
  }
  for (int64_t r = 0; r < br; ++r) {
    const float inv = w.l[r] > 0.0f ? 1.0f / w.l[r] : 0.0f;
    float* out = o + (bh * p.Sq + i0 + r) * Dv;
    for (int64_t e = 0; e < Dv; ++e) out[e] = w.acc[r * Dv + e] * inv;
    lse[bh * p.Sq + i0 + r] = w.l[r] > 0.0f ? w.m[r] + std::log(w.l[r]) : -INFINITY;
  }
}

void backward(const Problem& p, const float* q, const float* k, const float* v, const float* go, const float* lse, const float* dsum,
              float* dq, float* dk, float* dv, int64_t bh, Scratch& w) {
  const int64_t b = bh / p.H, D = p.D, Dv = p.Dv;
  const float *qh = q + bh * p.Sq * D, *kh = k + bh * p.Sk * D, *vh = v + bh * p.Sk * Dv;
  const float *gh = go + bh * p.Sq * Dv, *lh = lse + bh * p.Sq, *dh = dsum + bh * p.Sq;
  float *dqh = dq + bh * p.Sq * D, *dkh = dk + bh * p.Sk * D, *dvh = dv + bh * p.Sk * Dv;
  for (int64_t j0 = 0; j0 < p.Sk; j0 += kBc) {
    const int64_t bc = std::min(kBc, p.Sk - j0);
    transpose_tile(kh, j0, bc, D, w.kt);
    transpose_tile(vh, j0, bc, Dv, w.vt);
    for (int64_t i0 = p.causal ? j0 / kBr * kBr : 0; i0 < p.Sq; i0 += kBr) {
      const int64_t br = std::min(kBr, p.Sq - i0);
      for (int64_t r = 0; r < br; ++r)
        for (int64_t d = 0; d < D; ++d) w.q[r * D + d] = qh[(i0 + r) * D + d] * p.scale;
      tile_scores(w.q, br, w.kt, bc, D, w.S);
      apply_mask(p, b, i0, br, j0, bc, w.S);
      tile_scores(gh + i0 * Dv, br, w.vt, bc, Dv, w.dP);  // dP = dO V^T
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
        const float* gr = gh + (i0 + r) * Dv;
        const float* qr = qh + (i0 + r) * D;
        float* dqr = dqh + (i0 + r) * D;
        for (int64_t j = 0; j < bc; ++j) {
          const float pj = s[j], dsj = dp[j];
          float* dvr = dvh + (j0 + j) * Dv;
#pragma omp simd
          for (int64_t e = 0; e < Dv; ++e) dvr[e] += pj * gr[e];
          float* dkr = dkh + (j0 + j) * D;
          const float* kr = kh + (j0 + j) * D;
#pragma omp simd
          for (int64_t d = 0; d < D; ++d) {
            dkr[d] += dsj * qr[d];
            dqr[d] += dsj * kr[d];
          }
        }
      }
    }
  }
}

}  // namespace tf::cpu::TF_ATTN_NS
