// CPU flash attention. Forward: per (batch, head, block of kBr queries), walk K/V in blocks of kBc
// keys with an online softmax (running max m, running sum l), never holding more than a kBr x kBc
// score tile; save lse = m + log(l). Backward: per (batch, head), per key block, recompute the
// probabilities from lse and accumulate dQ, dK, dV; D_i = rowsum(dO_i * O_i).
// A query row with no visible key outputs 0 and lse = -inf (PyTorch would give NaN).
#include <cmath>
#include <vector>
#include "tensorforge/op.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

constexpr int64_t kBr = 32, kBc = 64;

struct Problem {
  int64_t B, H, Sq, Sk, D, Dv;
  float scale;
  bool causal;
  const uint8_t* mask;  // [B, Sk] contiguous copy, or null
  std::vector<uint8_t> mask_own;
  Problem(const OpCall& c, size_t mask_index) {
    const View &q = c.in[0], &k = c.in[1], &v = c.in[2];
    B = q.shape[0]; H = q.shape[1]; Sq = q.shape[2]; Sk = k.shape[2]; D = q.shape[3]; Dv = v.shape[3];
    scale = static_cast<float>(c.attrs[0]);
    causal = c.attrs[1] != 0;
    mask = nullptr;
    if (c.in.size() > mask_index) {
      const View& m = c.in[mask_index];
      mask_own.resize(static_cast<size_t>(B * Sk));
      for (int64_t i = 0; i < B * Sk; ++i) mask_own[i] = m.get(m.offset_of(i)) != 0;
      mask = mask_own.data();
    }
  }
  bool visible(int64_t b, int64_t i, int64_t j) const { return !(causal && j > i) && !(mask && mask[b * Sk + j]); }
};

// S[r][j] = scale * q_r . k_j for a tile; invisible entries -inf. kt is the K block transposed [D][bc].
void scores(const Problem& p, int64_t b, const float* q, int64_t i0, int64_t br, const float* kt, int64_t j0, int64_t bc, float* S) {
  for (int64_t r = 0; r < br; ++r) {
    float* s = S + r * kBc;
    for (int64_t j = 0; j < bc; ++j) s[j] = 0.0f;
    for (int64_t d = 0; d < p.D; ++d) {
      float qd = q[(i0 + r) * p.D + d] * p.scale;
      const float* kd = kt + d * kBc;
      for (int64_t j = 0; j < bc; ++j) s[j] += qd * kd[j];
    }
    for (int64_t j = 0; j < bc; ++j)
      if (!p.visible(b, i0 + r, j0 + j)) s[j] = -INFINITY;
  }
}

void transpose_block(const float* k, int64_t j0, int64_t bc, int64_t D, float* kt) {
  for (int64_t j = 0; j < bc; ++j)
    for (int64_t d = 0; d < D; ++d) kt[d * kBc + j] = k[(j0 + j) * D + d];
}

int64_t key_end(const Problem& p, int64_t last_query) { return p.causal ? std::min(p.Sk, last_query + 1) : p.Sk; }

void k_attention(OpCall& c) {
  Problem p(c, 3);
  F32In q(c.in[0]), k(c.in[1]), v(c.in[2]);
  F32Out o(c.out[0]);
  float* lse = c.out[1].ptr<float>();
  int64_t qblocks = (p.Sq + kBr - 1) / kBr, items = p.B * p.H * qblocks;
  parallel_for(items, kBr * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    std::vector<float> kt(p.D * kBc), S(kBr * kBc), acc(kBr * p.Dv), m(kBr), l(kBr);
    for (int64_t t = t0; t < t1; ++t) {
      int64_t bh = t / qblocks, i0 = (t % qblocks) * kBr, br = std::min(kBr, p.Sq - i0), b = bh / p.H;
      const float *qh = q.p + bh * p.Sq * p.D, *kh = k.p + bh * p.Sk * p.D, *vh = v.p + bh * p.Sk * p.Dv;
      std::fill(acc.begin(), acc.end(), 0.0f);
      std::fill(m.begin(), m.end(), -INFINITY);
      std::fill(l.begin(), l.end(), 0.0f);
      for (int64_t j0 = 0; j0 < key_end(p, i0 + br - 1); j0 += kBc) {
        int64_t bc = std::min(kBc, p.Sk - j0);
        transpose_block(kh, j0, bc, p.D, kt.data());
        scores(p, b, qh, i0, br, kt.data(), j0, bc, S.data());
        for (int64_t r = 0; r < br; ++r) {
          float* s = S.data() + r * kBc;
          float mx = m[r];
          for (int64_t j = 0; j < bc; ++j) mx = std::max(mx, s[j]);
          if (mx == -INFINITY) continue;  // nothing visible yet in this row
          float corr = std::exp(m[r] - mx), sum = 0.0f;
          for (int64_t j = 0; j < bc; ++j) sum += (s[j] = std::exp(s[j] - mx));
          l[r] = l[r] * corr + sum;
          m[r] = mx;
          float* a = acc.data() + r * p.Dv;
          for (int64_t e = 0; e < p.Dv; ++e) a[e] *= corr;
          for (int64_t j = 0; j < bc; ++j) {
            if (s[j] == 0.0f) continue;
            const float* vr = vh + (j0 + j) * p.Dv;
            for (int64_t e = 0; e < p.Dv; ++e) a[e] += s[j] * vr[e];
          }
        }
      }
      for (int64_t r = 0; r < br; ++r) {
        float inv = l[r] > 0 ? 1.0f / l[r] : 0.0f;
        float* out = o.p + (bh * p.Sq + i0 + r) * p.Dv;
        for (int64_t e = 0; e < p.Dv; ++e) out[e] = acc[r * p.Dv + e] * inv;
        lse[bh * p.Sq + i0 + r] = l[r] > 0 ? m[r] + std::log(l[r]) : -INFINITY;
      }
    }
  });
  o.commit();
}

void k_attention_backward(OpCall& c) {
  Problem p(c, 6);
  F32In q(c.in[0]), k(c.in[1]), v(c.in[2]), o(c.in[3]), go(c.in[5]);
  F32In lse_in(c.in[4]);
  const float* lse = lse_in.p;
  F32Out dq(c.out[0]), dk(c.out[1]), dv(c.out[2]);
  parallel_for(p.B * p.H, p.Sq * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    std::vector<float> kt(p.D * kBc), vt(p.Dv * kBc), S(kBr * kBc), dP(kBr * kBc), Dsum(p.Sq);
    for (int64_t bh = t0; bh < t1; ++bh) {
      int64_t b = bh / p.H;
      const float *qh = q.p + bh * p.Sq * p.D, *kh = k.p + bh * p.Sk * p.D, *vh = v.p + bh * p.Sk * p.Dv;
      const float *oh = o.p + bh * p.Sq * p.Dv, *gh = go.p + bh * p.Sq * p.Dv, *lh = lse + bh * p.Sq;
      float *dqh = dq.p + bh * p.Sq * p.D, *dkh = dk.p + bh * p.Sk * p.D, *dvh = dv.p + bh * p.Sk * p.Dv;
      std::fill(dqh, dqh + p.Sq * p.D, 0.0f);
      std::fill(dkh, dkh + p.Sk * p.D, 0.0f);
      std::fill(dvh, dvh + p.Sk * p.Dv, 0.0f);
      for (int64_t i = 0; i < p.Sq; ++i) {
        float s = 0.0f;
        for (int64_t e = 0; e < p.Dv; ++e) s += gh[i * p.Dv + e] * oh[i * p.Dv + e];
        Dsum[i] = s;
      }
      for (int64_t j0 = 0; j0 < p.Sk; j0 += kBc) {
        int64_t bc = std::min(kBc, p.Sk - j0);
        transpose_block(kh, j0, bc, p.D, kt.data());
        transpose_block(vh, j0, bc, p.Dv, vt.data());
        for (int64_t i0 = p.causal ? j0 / kBr * kBr : 0; i0 < p.Sq; i0 += kBr) {
          int64_t br = std::min(kBr, p.Sq - i0);
          scores(p, b, qh, i0, br, kt.data(), j0, bc, S.data());
          for (int64_t r = 0; r < br; ++r) {
            float* s = S.data() + r * kBc;
            float lr = lh[i0 + r];
            for (int64_t j = 0; j < bc; ++j) s[j] = lr == -INFINITY ? 0.0f : std::exp(s[j] - lr);  // P
            // dP = dO_r . V_j
            float* dp = dP.data() + r * kBc;
            for (int64_t j = 0; j < bc; ++j) dp[j] = 0.0f;
            for (int64_t e = 0; e < p.Dv; ++e) {
              float g = gh[(i0 + r) * p.Dv + e];
              const float* ve = vt.data() + e * kBc;
              for (int64_t j = 0; j < bc; ++j) dp[j] += g * ve[j];
            }
            for (int64_t j = 0; j < bc; ++j) dp[j] = s[j] * (dp[j] - Dsum[i0 + r]) * p.scale;  // dS * scale
            // dV_j += P^T dO ; dK_j += dS^T Q ; dQ_r += dS K
            for (int64_t j = 0; j < bc; ++j) {
              float pj = s[j], dsj = dp[j];
              if (pj == 0.0f && dsj == 0.0f) continue;
              float* dvr = dvh + (j0 + j) * p.Dv;
              const float* gr = gh + (i0 + r) * p.Dv;
              for (int64_t e = 0; e < p.Dv; ++e) dvr[e] += pj * gr[e];
              float* dkr = dkh + (j0 + j) * p.D;
              const float* qr = qh + (i0 + r) * p.D;
              for (int64_t d = 0; d < p.D; ++d) dkr[d] += dsj * qr[d];
              float* dqr = dqh + (i0 + r) * p.D;
              const float* kr = kh + (j0 + j) * p.D;
              for (int64_t d = 0; d < p.D; ++d) dqr[d] += dsj * kr[d];
            }
          }
        }
      }
    }
  });
  dq.commit();
  dk.commit();
  dv.commit();
}

TF_REGISTER_KERNEL(cpu, attention, k_attention);
TF_REGISTER_KERNEL(cpu, attention_backward, k_attention_backward);

}  // namespace
}  // namespace tf::cpu
