// CPU int8 ops: per-channel weight quantisation (a row per task) and the int8 linear on qgemm.
#include <cmath>
#include <optional>
#include "tensorforge/qgemm.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

void k_quantize_per_channel(OpCall& c) {
  F32In w(c.in[0]);
  const View &q = c.out[0], &s = c.out[1];
  const int64_t N = c.in[0].shape[0], K = c.in[0].shape[1];
  parallel_for(N, 2 * K, [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      const float* row = w.p + n * K;
      float amax = 0.0f;
      for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(row[k]));
      float inv = qgemm::inv_scale_of(amax);
      int8_t* out = q.ptr<int8_t>() + n * q.strides[0];
      for (int64_t k = 0; k < K; ++k) out[k * q.strides[1]] = static_cast<int8_t>(qgemm::quantize(row[k], inv));
      s.ptr<float>()[n * s.strides[0]] = qgemm::scale_of(amax);
    }
  });
}

// bf16 activations are quantised from their rows and a bf16 output written in the epilogue, when
// contiguous; other dtypes and layouts are staged as float32
void k_linear_int8(OpCall& c) {
  const View &w = c.in[1];
  const bool x16 = c.in[0].dtype == DType::bf16 && c.in[0].contiguous(), y16 = c.out[0].dtype == DType::bf16 && c.out[0].contiguous();
  F32In scale(c.in[2]);
  std::optional<F32In> x;
  std::optional<F32Out> y;
  if (!x16) x.emplace(c.in[0]);
  if (!y16) y.emplace(c.out[0]);
  const LinearTail tail = linear_tail(c, 3, 1);
  std::optional<F32In> bias, residual;
  if (tail.bias) bias.emplace(*tail.bias);
  if (tail.residual) residual.emplace(*tail.residual);
  qgemm::Args g;
  g.N = w.shape[0];
  g.K = w.shape[1];
  g.M = g.K ? c.in[0].numel() / g.K : c.out[0].numel() / std::max<int64_t>(g.N, 1);
  if (x16) g.X16 = c.in[0].ptr<uint16_t>();
  else g.X = x->p;
  g.static_scale = static_cast<float>(c.attrs[0]);
  g.W = w.ptr<int8_t>();
  g.w_sn = w.strides[0];
  g.w_sk = w.strides[1];
  g.w_storage = w.storage_id;
  g.w_version = w.version;
  g.w_scale = scale.p;
  g.bias = bias ? bias->p : nullptr;
  if (residual) {
    g.residual = residual->p;
    g.ldr = g.N;
  }
  g.act = qgemm::activation_of(c.attrs);
  if (y16) g.C16 = c.out[0].ptr<uint16_t>();
  else g.C = y->p;
  g.ldc = g.N;
  qgemm::run(g);
  if (y) y->commit();
}

TF_REGISTER_KERNEL(cpu, quantize_per_channel, k_quantize_per_channel);
TF_REGISTER_KERNEL(cpu, linear_int8, k_linear_int8);

}  // namespace
}  // namespace tf::cpu
