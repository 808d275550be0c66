// CPU flash attention: reads float32 operands in place through their strides (bf16 ones too where
// the CPU has AVX512_BF16; others staged as contiguous float32), splits the work over threads and calls the loops of attention_kernel.h built
// for the active ISA. A query row with no visible key outputs 0 and lse = -inf (PyTorch would give
// NaN).
#include <cmath>
#include <type_traits>
#include "attention_problem.h"
#include "tensorforge/isa.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

struct Kernels {
  decltype(&attn_base::forward) forward;
  decltype(&attn_base::backward) backward;
  decltype(&attn_avx512_bf16::forward_bf16) forward_bf16 = nullptr;  // bf16 operands, where the CPU has BF16
};
Kernels kernels() {
  Isa isa = active_isa();
  if (isa >= Isa::avx512_bf16) return {attn_avx512_bf16::forward, attn_avx512_bf16::backward, attn_avx512_bf16::forward_bf16};
  if (isa >= Isa::avx512) return {attn_avx512::forward, attn_avx512::backward};
  if (isa == Isa::avx2) return {attn_avx2::forward, attn_avx2::backward};
  return {attn_base::forward, attn_base::backward};
}

// An operand read where it lies when it is float32 with unit stride along its last dim (the heads
// of a packed projection, a permuted output), else staged as a contiguous float32 copy.
bool in_place(const View& v, DType t = DType::f32) { return v.dtype == t && (v.strides[3] == 1 || v.shape[3] == 1); }
template <class T>
Rows<T> contiguous_rows(T* p, const View& v) { return {p, v.shape[1] * v.shape[2] * v.shape[3], v.shape[2] * v.shape[3], v.shape[3]}; }
// v's own rows, where it lies (in_place)
template <class T>
Rows<T> rows_in_place(const View& v) { return {v.ptr<std::remove_const_t<T>>(), v.strides[0], v.strides[1], v.strides[2]}; }

struct AttnIn {
  host::FloatBuffer own;
  InRows rows;
  explicit AttnIn(const View& v) {
    if (in_place(v)) {
      rows = rows_in_place<const float>(v);
      return;
    }
    own.resize(static_cast<size_t>(v.numel()));
    if (!own.empty()) gather_floats(v, own.data());
    rows = contiguous_rows<const float>(own.data(), v);
  }
};

struct AttnOut {
  const View& v;
  host::FloatBuffer own;
  OutRows rows;
  explicit AttnOut(const View& view) : v(view) {
    if (in_place(v)) {
      rows = rows_in_place<float>(v);
      return;
    }
    own.resize(static_cast<size_t>(v.numel()));  // the kernel writes every element
    rows = contiguous_rows<float>(own.data(), v);
  }
  void commit() {
    if (!own.empty()) scatter_floats(own.data(), v);
  }
};

// bf16 q, k, v and output, read and written where they lie, with bf16 products (attention_kernel.h)
bool run_bf16(const OpCall& c, const Problem& p, const Kernels& kern, float* lse) {
  if (!kern.forward_bf16 || !bf16_fits(p)) return false;
  for (const View* v : {&c.in[0], &c.in[1], &c.in[2], &c.out[0]})
    if (!in_place(*v, DType::bf16)) return false;
  const BInRows q = rows_in_place<const uint16_t>(c.in[0]), k = rows_in_place<const uint16_t>(c.in[1]), v = rows_in_place<const uint16_t>(c.in[2]);
  const BOutRows o = rows_in_place<uint16_t>(c.out[0]);
  parallel_for(p.B * p.H, p.Sq * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    ScratchBf16 w(p);
    for (int64_t bh = t0; bh < t1; ++bh) kern.forward_bf16(p, q, k, v, o, lse, bh, w);
  });
  return true;
}

void k_attention(OpCall& c) {
  Problem p(c, 3);
  float* lse = c.out[1].ptr<float>();
  const Kernels kern = kernels();
  if (run_bf16(c, p, kern, lse)) return;
  AttnIn q(c.in[0]), k(c.in[1]), v(c.in[2]);
  AttnOut o(c.out[0]);
  parallel_for(p.B * p.H, p.Sq * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    Scratch w(p);
    for (int64_t bh = t0; bh < t1; ++bh) kern.forward(p, q.rows, k.rows, v.rows, o.rows, lse, bh, w);
  });
  o.commit();
}

void k_attention_backward(OpCall& c) {
  Problem p(c, 6);
  AttnIn q(c.in[0]), k(c.in[1]), v(c.in[2]), o(c.in[3]), go(c.in[5]);
  F32In lse(c.in[4]);
  F32Out dq(c.out[0]), dk(c.out[1]), dv(c.out[2]);
  const Kernels kern = kernels();
  // D_i = rowsum(dO_i * O_i), the softmax backward's correction per query
  std::vector<float> dsum(static_cast<size_t>(p.B * p.H * p.Sq));
  parallel_for(p.B * p.H * p.Sq, p.Dv, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t bh = r / p.Sq, i = r % p.Sq;
      const float *g = go.rows.head(bh, p.H) + i * go.rows.ss, *y = o.rows.head(bh, p.H) + i * o.rows.ss;
      float s = 0.0f;
      for (int64_t e = 0; e < p.Dv; ++e) s += g[e] * y[e];
      dsum[r] = s;
    }
  });
  parallel_for(p.B * p.H, p.Sq * p.Sk * (p.D + p.Dv), [&](int64_t t0, int64_t t1) {
    Scratch w(p);
    for (int64_t bh = t0; bh < t1; ++bh) {
      std::fill(dq.p + bh * p.Sq * p.D, dq.p + (bh + 1) * p.Sq * p.D, 0.0f);
      std::fill(dk.p + bh * p.Sk * p.D, dk.p + (bh + 1) * p.Sk * p.D, 0.0f);
      std::fill(dv.p + bh * p.Sk * p.Dv, dv.p + (bh + 1) * p.Sk * p.Dv, 0.0f);
      kern.backward(p, q.rows, k.rows, v.rows, go.rows, lse.p, dsum.data(), dq.p, dk.p, dv.p, bh, w);
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
