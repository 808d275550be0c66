// CPU reductions and softmax. Each reduced group is read once into a float buffer (a no-op view
// when it is already unit-stride float32) and folded with 16 independent partial sums; sums over
// leading axes of a contiguous tensor (bias gradients) add whole rows instead.
#include <cmath>
#include <vector>
#include "loops.h"
#include "tensorforge/convert.h"
#include "tensorforge/iter.h"
#include "tensorforge/parallel.h"
#include "tensorforge/reduce_plan.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

constexpr int kLanes = 16;

double lane_sum(const float* x, int64_t n) {
  float part[kLanes] = {0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) part[l] += x[i + l];
  double s = 0;
  for (int l = 0; l < kLanes; ++l) s += part[l];
  for (; i < n; ++i) s += x[i];
  return s;
}

// Unit-stride float view of a group, copying into buf when needed.
const float* group_values(const View& x, int64_t base, const View& red, std::vector<float>& buf) {
  int64_t n = red.numel();
  View g = red;
  g.data = static_cast<char*>(x.at(base));
  Coalesced<1> co = coalesce<1>({&g});
  if (x.dtype == DType::f32 && co.rank == 1 && (co.strides[0][0] == 1 || n <= 1)) return g.ptr<float>();
  buf.resize(static_cast<size_t>(n));
  gather_floats(g, buf.data());  // run by run (a permuted view: rows of its last dims)
  return buf.data();
}

template <class F>
void each_group(OpCall& c, F f) {  // f(values, n) -> double
  ReducePlan p = reduce_plan(c);
  const View& o = c.out[0];
  int64_t n = p.inner();
  parallel_for(p.outer(), std::max<int64_t>(n, 1), [&](int64_t b, int64_t e) {
    std::vector<float> buf;
    for (int64_t i = b; i < e; ++i) o.set(o.offset_of(i), f(group_values(c.in[0], p.kept.offset_of(i), p.red, buf), n));
  });
}

// Sum over leading or middle axes when the kept axes end in a unit-stride run of floats (a bias
// gradient, a mean over the sequence of (batch, seq, dim)): add rows of each run.
bool sum_rows(OpCall& c, double scale) {
  ReducePlan p = reduce_plan(c);
  const View& x = c.in[0];
  Coalesced<1> kept = coalesce<1>({&p.kept});
  const int64_t run = kept.shape[kept.rank - 1];
  // several runs: only when each is long enough to be worth a pass of its own
  if (!is_float(x.dtype) || kept.strides[0][kept.rank - 1] != 1 || (kept.rank > 1 && run < 16) || p.inner() < 2 || !c.out[0].contiguous())
    return false;
  int64_t cols = p.outer(), rows = p.inner();
  const View& o = c.out[0];
  const Loops L = loops();
  parallel_for(cols, rows, [&](int64_t b, int64_t e) {
    std::vector<double> acc(static_cast<size_t>(std::min(run, e - b)));
    std::vector<float> row(acc.size()), res(acc.size());
    for (int64_t s = b; s < e;) {  // segments of [b, e) that stay inside one run
      const int64_t n = std::min(e, (s / run + 1) * run) - s, base = p.kept.offset_of(s);
      std::fill(acc.begin(), acc.begin() + n, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const void* at = x.at(p.red.offset_of(r) + base);
        const float* v = row.data();
        if (x.dtype == DType::f32) v = static_cast<const float*>(at);  // read in place
        else load_floats(at, x.dtype, n, row.data());
        L.add_to_f64(v, acc.data(), n);
      }
      for (int64_t j = 0; j < n; ++j) res[j] = static_cast<float>(acc[j] * scale);
      store_floats(res.data(), n, o.at(s), o.dtype);
      s += n;
    }
  });
  return true;
}

void k_sum(OpCall& c) {
  if (!sum_rows(c, 1.0)) each_group(c, [](const float* v, int64_t n) { return lane_sum(v, n); });
}
void k_mean(OpCall& c) {
  int64_t n = reduce_plan(c).inner();
  if (n > 0 && sum_rows(c, 1.0 / static_cast<double>(n))) return;
  each_group(c, [](const float* v, int64_t n) { return n == 0 ? NAN : lane_sum(v, n) / static_cast<double>(n); });
}
template <bool kMax>
double extreme(const float* v, int64_t n) {
  float m = kMax ? -INFINITY : INFINITY;
  bool nan = false;
  for (int64_t i = 0; i < n; ++i) {
    nan |= v[i] != v[i];
    m = kMax ? std::max(m, v[i]) : std::min(m, v[i]);
  }
  return nan ? NAN : m;
}
void k_max(OpCall& c) { each_group(c, extreme<true>); }
void k_min(OpCall& c) { each_group(c, extreme<false>); }
void k_argmax(OpCall& c) {
  each_group(c, [](const float* v, int64_t n) {
    int64_t best = 0;
    for (int64_t i = 1; i < n && v[best] == v[best]; ++i)
      if (v[i] != v[i] || v[i] > v[best]) best = i;
    return static_cast<double>(best);
  });
}
void k_var(OpCall& c) {
  double corr = c.attrs[1];
  each_group(c, [=](const float* v, int64_t n) {
    double m = lane_sum(v, n) / static_cast<double>(n), s = 0;
    for (int64_t i = 0; i < n; ++i) s += (v[i] - m) * (v[i] - m);
    double dof = static_cast<double>(n) - corr;
    return dof <= 0 ? NAN : s / dof;
  });
}

// Row kernels over the last dim. Rows are copied to float buffers when not unit-stride float32.
template <class F>
void each_row(OpCall& c, F f) {
  const View& x = c.in[0];
  const View& o = c.out[0];
  int64_t n = x.shape[x.rank - 1], rows = n == 0 ? 0 : x.numel() / n;
  bool fast = o.contiguous() && o.dtype == DType::f32;
  for (const View& v : c.in) fast = fast && v.contiguous() && v.dtype == DType::f32;
  parallel_for(rows, n * 4, [&](int64_t b, int64_t e) {
    std::vector<float> a, g, y;
    for (int64_t r = b; r < e; ++r) {
      if (fast) {
        const float* second = c.in.size() > 1 ? c.in[1].ptr<float>() + r * n : nullptr;
        f(x.ptr<float>() + r * n, second, o.ptr<float>() + r * n, n);
        continue;
      }
      a.resize(n); g.resize(n); y.resize(n);
      for (int64_t j = 0; j < n; ++j) {
        a[j] = static_cast<float>(x.get(x.offset_of(r * n + j)));
        if (c.in.size() > 1) g[j] = static_cast<float>(c.in[1].get(c.in[1].offset_of(r * n + j)));
      }
      f(a.data(), g.data(), y.data(), n);
      for (int64_t j = 0; j < n; ++j) o.set(o.offset_of(r * n + j), y[j]);
    }
  });
}

float row_max(const float* x, int64_t n) {
  float m = -INFINITY;
  for (int64_t j = 0; j < n; ++j) m = std::max(m, x[j]);
  return m;
}
void k_softmax(OpCall& c) {
  const auto row = loops().softmax_row;
  each_row(c, [row](const float* x, const float*, float* y, int64_t n) { row(x, y, n); });
}
void k_log_softmax(OpCall& c) {
  each_row(c, [](const float* x, const float*, float* y, int64_t n) {
    float m = row_max(x, n);
    double s = 0;
    for (int64_t j = 0; j < n; ++j) s += std::exp(x[j] - m);
    float lse = m + static_cast<float>(std::log(s));
    for (int64_t j = 0; j < n; ++j) y[j] = x[j] - lse;
  });
}
void k_softmax_backward(OpCall& c) {
  each_row(c, [](const float* y, const float* g, float* gx, int64_t n) {
    double d = 0;
    for (int64_t j = 0; j < n; ++j) d += static_cast<double>(g[j]) * y[j];
    float df = static_cast<float>(d);
    for (int64_t j = 0; j < n; ++j) gx[j] = y[j] * (g[j] - df);
  });
}
void k_log_softmax_backward(OpCall& c) {
  each_row(c, [](const float* y, const float* g, float* gx, int64_t n) {
    float s = static_cast<float>(lane_sum(g, n));
    for (int64_t j = 0; j < n; ++j) gx[j] = g[j] - std::exp(y[j]) * s;
  });
}

TF_REGISTER_KERNEL(cpu, sum, k_sum);
TF_REGISTER_KERNEL(cpu, mean, k_mean);
TF_REGISTER_KERNEL(cpu, max, k_max);
TF_REGISTER_KERNEL(cpu, min, k_min);
TF_REGISTER_KERNEL(cpu, argmax, k_argmax);
TF_REGISTER_KERNEL(cpu, var, k_var);
TF_REGISTER_KERNEL(cpu, softmax, k_softmax);
TF_REGISTER_KERNEL(cpu, log_softmax, k_log_softmax);
TF_REGISTER_KERNEL(cpu, softmax_backward, k_softmax_backward);
TF_REGISTER_KERNEL(cpu, log_softmax_backward, k_log_softmax_backward);

}  // namespace
}  // namespace tf::cpu
