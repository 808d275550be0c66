// Reference int8 ops: the quantisation rule of qgemm.h applied element by element, exact integer
// dot products, the epilogue in the same float operations as the kernels.
#include <cmath>
#include "tensorforge/iter.h"
#include "tensorforge/qgemm.h"
#include "tensorforge/scalar_math.h"

namespace tf::ref {
namespace {

float row_amax(const View& v, int64_t base, int64_t stride, int64_t n) {
  float amax = 0.0f;
  for (int64_t k = 0; k < n; ++k) amax = std::max(amax, std::fabs(static_cast<float>(v.get(base + k * stride))));
  return amax;
}

void k_quantize_per_channel(OpCall& c) {
  const View &w = c.in[0], &q = c.out[0], &s = c.out[1];
  for (int64_t n = 0; n < w.shape[0]; ++n) {
    float amax = row_amax(w, n * w.strides[0], w.strides[1], w.shape[1]);
    float inv = qgemm::inv_scale_of(amax);
    for (int64_t k = 0; k < w.shape[1]; ++k)
      q.set(n * q.strides[0] + k * q.strides[1], qgemm::quantize(static_cast<float>(w.get(n * w.strides[0] + k * w.strides[1])), inv));
    s.set(n * s.strides[0], qgemm::scale_of(amax));
  }
}

void k_linear_int8(OpCall& c) {
  const View &x = c.in[0], &w = c.in[1], &ws = c.in[2], &o = c.out[0];
  const int64_t N = w.shape[0], K = w.shape[1], M = K ? x.numel() / K : o.numel() / std::max<int64_t>(N, 1);
  const float static_scale = static_cast<float>(c.attrs[0]);
  const LinearTail tail = linear_tail(c, 3, 1);
  const int act = static_cast<int>(qgemm::activation_of(c.attrs));
  std::vector<int32_t> qx(static_cast<size_t>(K));
  for (int64_t m = 0; m < M; ++m) {
    // row m of x and of the output, through their (rank-generic) views
    int64_t xo = x.offset_of(m * K), oo = o.offset_of(m * N);
    int64_t xs = x.strides[x.rank - 1], os = o.strides[o.rank - 1];
    float amax = row_amax(x, xo, xs, K);
    float inv = static_scale > 0.0f ? 1.0f / static_scale : qgemm::inv_scale_of(amax);
    float sx = static_scale > 0.0f ? static_scale : qgemm::scale_of(amax);
    for (int64_t k = 0; k < K; ++k) qx[k] = qgemm::quantize(static_cast<float>(x.get(xo + k * xs)), inv);
    for (int64_t n = 0; n < N; ++n) {
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += qx[k] * static_cast<int64_t>(w.get(n * w.strides[0] + k * w.strides[1]));
      float y = static_cast<float>(acc) * (sx * static_cast<float>(ws.get(n * ws.strides[0])));
      if (tail.bias) y += static_cast<float>(tail.bias->get(n * tail.bias->strides[0]));
      y = sm::activation(y, act);
      if (tail.residual) y += static_cast<float>(tail.residual->get(tail.residual->offset_of(m * N + n)));
      o.set(oo + n * os, y);
    }
  }
}

TF_REGISTER_KERNEL(ref, quantize_per_channel, k_quantize_per_channel);
TF_REGISTER_KERNEL(ref, linear_int8, k_linear_int8);

}  // namespace
}  // namespace tf::ref
