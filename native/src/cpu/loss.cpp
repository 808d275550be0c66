// CPU cross-entropy: per row, one pass for max and log-sum-exp, one for the smoothed target term.
#include <cmath>
#include "tensorforge/op.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

int64_t label(const OpCall& c, int64_t r) { return *static_cast<const int32_t*>(c.in[1].at(r * c.in[1].strides[0])); }

float row_lse(const float* z, int64_t C) {
  float m = -INFINITY;
  for (int64_t j = 0; j < C; ++j) m = std::max(m, z[j]);
  double s = 0;
  for (int64_t j = 0; j < C; ++j) s += std::exp(z[j] - m);
  return m + static_cast<float>(std::log(s));
}

void k_cross_entropy(OpCall& c) {
  F32In x(c.in[0]);
  int64_t N = c.in[0].shape[0], C = c.in[0].shape[1];
  int64_t ignore = static_cast<int64_t>(c.attrs[0]);
  float eps = static_cast<float>(c.attrs[1]);
  float *loss = c.out[0].ptr<float>(), *lse = c.out[1].ptr<float>();
  parallel_for(N, 2 * C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* z = x.p + r * C;
      float l = row_lse(z, C);
      lse[r] = l;
      int64_t y = label(c, r);
      if (y == ignore) {
        loss[r] = 0.0f;
        continue;
      }
      double all = 0;
      if (eps != 0.0f)
        for (int64_t j = 0; j < C; ++j) all += l - z[j];
      loss[r] = static_cast<float>((1.0 - eps) * (l - z[y]) + eps / C * all);
    }
  });
}

void k_cross_entropy_backward(OpCall& c) {
  F32In x(c.in[0]);
  F32Out d(c.out[0]);
  int64_t N = c.in[0].shape[0], C = c.in[0].shape[1];
  int64_t ignore = static_cast<int64_t>(c.attrs[0]);
  float eps = static_cast<float>(c.attrs[1]);
  F32In lse_in(c.in[2]), g_in(c.in[3]);  // the gradient is often a broadcast (stride 0) view
  const float *lse = lse_in.p, *g = g_in.p;
  parallel_for(N, 2 * C, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* z = x.p + r * C;
      float* dz = d.p + r * C;
      int64_t y = label(c, r);
      if (y == ignore) {
        for (int64_t j = 0; j < C; ++j) dz[j] = 0.0f;
        continue;
      }
      float base = eps / C;
      for (int64_t j = 0; j < C; ++j) dz[j] = g[r] * (std::exp(z[j] - lse[r]) - base - (j == y ? 1.0f - eps : 0.0f));
    }
  });
  d.commit();
}

TF_REGISTER_KERNEL(cpu, cross_entropy, k_cross_entropy);
TF_REGISTER_KERNEL(cpu, cross_entropy_backward, k_cross_entropy_backward);

}  // namespace
}  // namespace tf::cpu
