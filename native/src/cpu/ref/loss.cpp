// Reference cross-entropy: loss_i = (1-eps) * -log p[y_i] + eps/C * sum_c -log p[c]; ignored rows 0.
#include <cmath>
#include <vector>
#include "tensorforge/op.h"

namespace tf::ref {
namespace {

struct Row {
  std::vector<double> z;
  double lse;
};
Row row(const View& x, int64_t r) {
  int64_t C = x.shape[1];
  Row o{std::vector<double>(C), 0};
  double m = -INFINITY, s = 0;
  for (int64_t j = 0; j < C; ++j) m = std::max(m, o.z[j] = x.get(r * x.strides[0] + j * x.strides[1]));
  for (double v : o.z) s += std::exp(v - m);
  o.lse = m + std::log(s);
  return o;
}
int64_t label(const OpCall& c, int64_t r) { return *static_cast<const int32_t*>(c.in[1].at(r * c.in[1].strides[0])); }

void k_cross_entropy(OpCall& c) {
  const View& x = c.in[0];
  int64_t C = x.shape[1];
  double eps = c.attrs[1];
  for (int64_t r = 0; r < x.shape[0]; ++r) {
    Row w = row(x, r);
    int64_t y = label(c, r);
    double loss = 0;
    if (y != static_cast<int64_t>(c.attrs[0])) {
      double all = 0;
      for (double v : w.z) all += w.lse - v;
      loss = (1 - eps) * (w.lse - w.z[y]) + eps / C * all;
    }
    c.out[0].set(r * c.out[0].strides[0], loss);
    c.out[1].set(r * c.out[1].strides[0], w.lse);
  }
}

void k_cross_entropy_backward(OpCall& c) {
  const View& x = c.in[0];
  int64_t C = x.shape[1];
  double eps = c.attrs[1];
  for (int64_t r = 0; r < x.shape[0]; ++r) {
    Row w = row(x, r);
    int64_t y = label(c, r);
    bool ignored = y == static_cast<int64_t>(c.attrs[0]);
    double g = c.in[3].get(r * c.in[3].strides[0]);
    for (int64_t j = 0; j < C; ++j) {
      double target = (j == y ? 1 - eps : 0) + eps / C;
      double d = ignored ? 0 : g * (std::exp(w.z[j] - w.lse) - target);
      c.out[0].set(r * c.out[0].strides[0] + j * c.out[0].strides[1], d);
    }
  }
}

TF_REGISTER_KERNEL(ref, cross_entropy, k_cross_entropy);
TF_REGISTER_KERNEL(ref, cross_entropy_backward, k_cross_entropy_backward);

}  // namespace
}  // namespace tf::ref
