// Reference layer_norm forward and backward: per row, in double.
#include <cmath>
#include <vector>
#include "tensorforge/op.h"

namespace tf::ref {
namespace {

double vec(const OpCall& c, size_t i, int64_t j) { return c.in.size() > i ? c.in[i].get(j * c.in[i].strides[0]) : (i == 1 || i == 4 ? 1.0 : 0.0); }

void k_layer_norm(OpCall& c) {
  const View& x = c.in[0];
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  for (int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (int64_t j = 0; j < D; ++j) m += x.get(x.offset_of(r * D + j));
    m /= D;
    for (int64_t j = 0; j < D; ++j) v += std::pow(x.get(x.offset_of(r * D + j)) - m, 2);
    double rstd = 1.0 / std::sqrt(v / D + c.attrs[0]);
    for (int64_t j = 0; j < D; ++j) {
      double y = (x.get(x.offset_of(r * D + j)) - m) * rstd * vec(c, 1, j) + vec(c, 2, j);
      c.out[0].set(c.out[0].offset_of(r * D + j), y);
    }
    c.out[1].set(r * c.out[1].strides[0], m);
    c.out[2].set(r * c.out[2].strides[0], rstd);
  }
}

// dx = rstd * (g*w - mean(g*w) - xhat * mean(g*w*xhat)); dw = sum g*xhat; db = sum g
void k_layer_norm_backward(OpCall& c) {
  const View &g = c.in[0], &x = c.in[1];
  int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  std::vector<double> dw(D, 0.0), db(D, 0.0), xhat(D), gw(D);
  for (int64_t r = 0; r < rows; ++r) {
    double m = c.in[2].get(r * c.in[2].strides[0]), rstd = c.in[3].get(r * c.in[3].strides[0]);
    double a = 0, b = 0;
    for (int64_t j = 0; j < D; ++j) {
      double gj = g.get(g.offset_of(r * D + j));
      xhat[j] = (x.get(x.offset_of(r * D + j)) - m) * rstd;
      gw[j] = gj * vec(c, 4, j);
      a += gw[j];
      b += gw[j] * xhat[j];
      dw[j] += gj * xhat[j];
      db[j] += gj;
    }
    a /= D;
    b /= D;
    for (int64_t j = 0; j < D; ++j) c.out[0].set(c.out[0].offset_of(r * D + j), rstd * (gw[j] - a - xhat[j] * b));
  }
  for (int64_t j = 0; j < D; ++j) {
    c.out[1].set(j * c.out[1].strides[0], dw[j]);
    c.out[2].set(j * c.out[2].strides[0], db[j]);
  }
}

TF_REGISTER_KERNEL(ref, layer_norm, k_layer_norm);
TF_REGISTER_KERNEL(ref, layer_norm_backward, k_layer_norm_backward);

}  // namespace
}  // namespace tf::ref
