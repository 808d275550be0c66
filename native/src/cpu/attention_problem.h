// Sizes, masks and scratch buffers of one attention call, shared by the per-ISA kernel builds.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>
#include "tensorforge/op.h"

namespace tf::cpu {

constexpr int64_t kBr = 32, kBc = 64;

struct Problem {
  int64_t B, H, Sq, Sk, D, Dv;
  float scale;
  bool causal;
  const uint8_t* mask;  // [B, Sk] contiguous, 1 = padded key; or null
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
};

// One (B, H, S, width) operand as the kernels read or write it: rows of `width` unit-stride floats,
// batch, head and position through strides, so the heads of a packed (B, S, 3, H, Dh) projection
// are read where they lie and an output can be written in (B, S, H, Dh) order.
template <class T>
struct Rows {
  T* p;
  int64_t sb, sh, ss;
  T* head(int64_t bh, int64_t H) const { return p + (bh / H) * sb + (bh % H) * sh; }
};
using InRows = Rows<const float>;
using OutRows = Rows<float>;
using BInRows = Rows<const uint16_t>;  // bfloat16 bits
using BOutRows = Rows<uint16_t>;

// Per-thread tiles: the scaled query block (transposed, for the forward), transposed K and V tiles
// (for the backward), scores, dP, accumulators.
struct Scratch {
  std::vector<float> buf;
  float *q, *kt, *vt, *S, *dP, *acc;
  Scratch(const Problem& p)
      : buf(static_cast<size_t>(kBr * p.D + kBc * p.D + kBc * p.Dv + 2 * kBr * kBc + kBr * p.Dv)) {
    float* at = buf.data();
    auto take = [&](int64_t n) { float* r = at; at += n; return r; };
    q = take(kBr * p.D); kt = take(kBc * p.D); vt = take(kBc * p.Dv); S = take(kBr * kBc); dP = take(kBr * kBc);
    acc = take(kBr * p.Dv);
  }
};

// The bf16 forward's tiles: query pairs, P pairs, the head's V pairs, scores, accumulators.
struct ScratchBf16 {
  std::vector<uint32_t> pairs;
  std::vector<float> buf;
  uint32_t *qp, *pp, *vp;
  float *S, *acc;
  explicit ScratchBf16(const Problem& p)
      : pairs(static_cast<size_t>(p.D / 2 * kBr + kBc / 2 * kBr + (p.Dv + 31) / 32 * ((p.Sk + 1) / 2) * 32)),
        buf(static_cast<size_t>(kBr * kBc + kBr * p.Dv)) {
    qp = pairs.data();
    pp = qp + p.D / 2 * kBr;
    vp = pp + kBc / 2 * kBr;
    S = buf.data();
    acc = S + kBr * kBc;
  }
};
// bf16 q, k, v with VDPBF16PS: D even, Dv 16, 32 or 64
inline bool bf16_fits(const Problem& p) { return p.D % 2 == 0 && (p.Dv == 16 || p.Dv == 32 || p.Dv == 64); }

namespace attn_base {
void forward(const Problem&, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch&);
void backward(const Problem&, InRows q, InRows k, InRows v, InRows go, const float* lse, const float* dsum, float* dq, float* dk, float* dv, int64_t bh, Scratch&);
}
namespace attn_avx2 {
void forward(const Problem&, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch&);
void backward(const Problem&, InRows q, InRows k, InRows v, InRows go, const float* lse, const float* dsum, float* dq, float* dk, float* dv, int64_t bh, Scratch&);
}
namespace attn_avx512 {
void forward(const Problem&, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch&);
void backward(const Problem&, InRows q, InRows k, InRows v, InRows go, const float* lse, const float* dsum, float* dq, float* dk, float* dv, int64_t bh, Scratch&);
}
namespace attn_avx512_bf16 {
void forward(const Problem&, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch&);
void backward(const Problem&, InRows q, InRows k, InRows v, InRows go, const float* lse, const float* dsum, float* dq, float* dk, float* dv, int64_t bh, Scratch&);
void forward_bf16(const Problem&, BInRows q, BInRows k, BInRows v, BOutRows o, float* lse, int64_t bh, ScratchBf16&);
}

}  // namespace tf::cpu
