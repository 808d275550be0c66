// Reference reductions and softmax: plain loops in double over strided views.
#include <cmath>
#include <limits>
#include "tensorforge/reduce_plan.h"

namespace tf::ref {
namespace {

template <class F>
void each_outer(OpCall& c, F f) {  // f(values of one reduced group) -> output value
  ReducePlan p = reduce_plan(c);
  const View& o = c.out[0];
  std::vector<double> vals(static_cast<size_t>(p.inner()));
  for (int64_t i = 0; i < p.outer(); ++i) {
    int64_t base = p.kept.offset_of(i);
    for (int64_t r = 0; r < p.inner(); ++r) vals[r] = c.in[0].get(base + p.red.offset_of(r));
    o.set(o.offset_of(i), f(vals));
  }
}

double sum_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s;
}
void k_sum(OpCall& c) { each_outer(c, sum_of); }
void k_mean(OpCall& c) {
  each_outer(c, [](const std::vector<double>& v) { return v.empty() ? NAN : sum_of(v) / v.size(); });
}
double nan_or(const std::vector<double>& v, double m) {
  for (double x : v)
    if (x != x) return x;
  return m;
}
void k_max(OpCall& c) {
  each_outer(c, [](const std::vector<double>& v) {
    double m = -INFINITY;
    for (double x : v) m = std::max(m, x);
    return nan_or(v, m);
  });
}
void k_min(OpCall& c) {
  each_outer(c, [](const std::vector<double>& v) {
    double m = INFINITY;
    for (double x : v) m = std::min(m, x);
    return nan_or(v, m);
  });
}
void k_argmax(OpCall& c) {  // first index of the maximum; a NaN counts as the maximum
  each_outer(c, [](const std::vector<double>& v) {
    size_t best = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[best] != v[best]) break;
      if (v[i] != v[i] || v[i] > v[best]) best = i;
    }
    return static_cast<double>(best);
  });
}
void k_var(OpCall& c) {
  double corr = c.attrs[1];
  each_outer(c, [=](const std::vector<double>& v) {
    double m = sum_of(v) / v.size(), s = 0;
    for (double x : v) s += (x - m) * (x - m);
    double dof = static_cast<double>(v.size()) - corr;
    return dof <= 0 ? NAN : s / dof;
  });
}

// rows of the last dim: f(row in, row out)
template <class F>
void each_row(OpCall& c, F f) {
  const View& x = c.in[0];
  int64_t n = x.shape[x.rank - 1], rows = n == 0 ? 0 : x.numel() / n;
  std::vector<double> a(n), b(n), y(n);
  const View* second = c.in.size() > 1 ? &c.in[1] : nullptr;
  const View& o = c.out[0];
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < n; ++j) {
      a[j] = x.get(x.offset_of(r * n + j));
      if (second) b[j] = second->get(second->offset_of(r * n + j));
    }
    f(a, b, y);
    for (int64_t j = 0; j < n; ++j) o.set(o.offset_of(r * n + j), y[j]);
  }
}
using Row = std::vector<double>;
void k_softmax(OpCall& c) {
  each_row(c, [](const Row& x, const Row&, Row& y) {
    double m = -INFINITY, s = 0;
    for (double v : x) m = std::max(m, v);
    for (size_t j = 0; j < x.size(); ++j) s += (y[j] = std::exp(x[j] - m));
    for (double& v : y) v /= s;
  });
}
void k_log_softmax(OpCall& c) {
  each_row(c, [](const Row& x, const Row&, Row& y) {
    double m = -INFINITY, s = 0;
    for (double v : x) m = std::max(m, v);
    for (double v : x) s += std::exp(v - m);
    for (size_t j = 0; j < x.size(); ++j) y[j] = x[j] - m - std::log(s);
  });
}
void k_softmax_backward(OpCall& c) {  // gx = y * (gy - sum(gy * y))
  each_row(c, [](const Row& y, const Row& g, Row& gx) {
    double d = 0;
    for (size_t j = 0; j < y.size(); ++j) d += g[j] * y[j];
    for (size_t j = 0; j < y.size(); ++j) gx[j] = y[j] * (g[j] - d);
  });
}
void k_log_softmax_backward(OpCall& c) {  // gx = gy - exp(y) * sum(gy)
  each_row(c, [](const Row& y, const Row& g, Row& gx) {
    double s = 0;
    for (double v : g) s += v;
    for (size_t j = 0; j < y.size(); ++j) gx[j] = g[j] - std::exp(y[j]) * s;
  });
}

TF_REGISTER_KERNEL(ref, sum, k_sum);
TF_REGISTER_KERNEL(ref, mean, k_mean);
TF_REGISTER_KERNEL(ref, max, k_max);
TF_REGISTER_KERNEL(ref, min, k_min);
TF_REGISTER_KERNEL(ref, argmax, k_argmax);
TF_REGISTER_KERNEL(ref, var, k_var);
TF_REGISTER_KERNEL(ref, softmax, k_softmax);
TF_REGISTER_KERNEL(ref, log_softmax, k_log_softmax);
TF_REGISTER_KERNEL(ref, softmax_backward, k_softmax_backward);
TF_REGISTER_KERNEL(ref, log_softmax_backward, k_log_softmax_backward);

}  // namespace
}  // namespace tf::ref
