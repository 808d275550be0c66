// Reference optimizer steps, in the order of operations of torch.optim.AdamW / SGD (foreach=False).
#include <cmath>
#include "tensorforge/op.h"

namespace tf::ref {
namespace {

void k_adamw_step(OpCall& c) {
  size_t n = c.in.size() / 4;
  double lr = c.attrs[0], b1 = c.attrs[1], b2 = c.attrs[2], eps = c.attrs[3], wd = c.attrs[4], t = c.attrs[5];
  double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
  for (size_t i = 0; i < n; ++i) {
    float *p = c.in[i].ptr<float>(), *g = c.in[n + i].ptr<float>(), *m = c.in[2 * n + i].ptr<float>(), *v = c.in[3 * n + i].ptr<float>();
    for (int64_t j = 0; j < c.in[i].numel(); ++j) {
      p[j] = static_cast<float>(p[j] * (1 - lr * wd));
      m[j] = static_cast<float>(m[j] + (g[j] - m[j]) * (1 - b1));
      v[j] = static_cast<float>(v[j] * b2 + (1 - b2) * g[j] * g[j]);
      double denom = std::sqrt(v[j]) / std::sqrt(bc2) + eps;
      p[j] = static_cast<float>(p[j] - (lr / bc1) * m[j] / denom);
    }
  }
}

void k_sgd_step(OpCall& c) {
  size_t n = c.in.size() / 3;
  double lr = c.attrs[0], mom = c.attrs[1], damp = c.attrs[2], wd = c.attrs[3];
  bool nesterov = c.attrs[4] != 0, first = c.attrs[5] != 0;
  for (size_t i = 0; i < n; ++i) {
    float *p = c.in[i].ptr<float>(), *g = c.in[n + i].ptr<float>(), *buf = c.in[2 * n + i].ptr<float>();
    for (int64_t j = 0; j < c.in[i].numel(); ++j) {
      double d = g[j] + wd * p[j];
      if (mom != 0) {
        buf[j] = static_cast<float>(first ? d : mom * buf[j] + (1 - damp) * d);
        d = nesterov ? d + mom * buf[j] : buf[j];
      }
      p[j] = static_cast<float>(p[j] - lr * d);
    }
  }
}

TF_REGISTER_KERNEL(ref, adamw_step, k_adamw_step);
TF_REGISTER_KERNEL(ref, sgd_step, k_sgd_step);

}  // namespace
}  // namespace tf::ref
