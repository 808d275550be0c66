// CPU flash attention: stages inputs as contiguous float32, splits the work over threads and calls
// the loops of attention_kernel.h built for the active ISA. A query row with no visible key outputs
// 0 and lse = -inf (PyTorch would give NaN).
#include <cmath>
#include "attention_problem.h"
#include "tensorforge/isa.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

struct Kernels {
  decltype(&attn_base::forward) forward;
  decltype(&attn_base::backward) backward;
};
Kernels kernels() {
  Isa isa = active_isa();
  if (isa >= Isa::avx512) return {attn_avx512::forward, attn_avx512::backward};
  if (isa == Isa::avx2) return {attn_avx2::forward, attn_avx2::backward};
  return {attn_base::forward, attn_base::backward};
}

void k_attention(OpCall& c) {
  Problem p(c, 3);
  F32In q(c.in[0]), k(c.in[1]), v(c.in[2]);
  F32Out o(c.out[0]);
  float* lse = c.out[1].ptr<float>();
  const Kernels kern = kernels();
  parallel_for(p.B * p.H, p.Sq * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    Scratch w(p);
    for (int64_t bh = t0; bh < t1; ++bh) kern.forward(p, q.p, k.p, v.p, o.p, lse, bh, w);
  });
  o.commit();
}

void k_attention_backward(OpCall& c) {
  Problem p(c, 6);
  F32In q(c.in[0]), k(c.in[1]), v(c.in[2]), o(c.in[3]), go(c.in[5]), lse(c.in[4]);
  F32Out dq(c.out[0]), dk(c.out[1]), dv(c.out[2]);
  const Kernels kern = kernels();
  // D_i = rowsum(dO_i * O_i), the softmax backward's correction per query
  std::vector<float> dsum(static_cast<size_t>(p.B * p.H * p.Sq));
  parallel_for(p.B * p.H * p.Sq, p.Dv, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      float s = 0.0f;
      for (int64_t e = 0; e < p.Dv; ++e) s += go.p[r * p.Dv + e] * o.p[r * p.Dv + e];
      dsum[r] = s;
    }
  });
  parallel_for(p.B * p.H, p.Sq * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    Scratch w(p);
    for (int64_t bh = t0; bh < t1; ++bh) {
      std::fill(dq.p + bh * p.Sq * p.D, dq.p + (bh + 1) * p.Sq * p.D, 0.0f);
      std::fill(dk.p + bh * p.Sk * p.D, dk.p + (bh + 1) * p.Sk * p.D, 0.0f);
      std::fill(dv.p + bh * p.Sk * p.Dv, dv.p + (bh + 1) * p.Sk * p.Dv, 0.0f);
      kern.backward(p, q.p, k.p, v.p, go.p, lse.p, dsum.data(), dq.p, dk.p, dv.p, bh, w);
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
