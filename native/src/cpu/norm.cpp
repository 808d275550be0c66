// CPU layer_norm: the per-ISA row loop of loops.h (float32 lane sums, two passes for the
// statistics, one for the output);
// backward accumulates dweight/dbias per thread and adds the partials in a fixed order, so the
// result does not depend on scheduling.
#include <cmath>
#include <vector>
#include "loops.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"
#include "tensorforge/op.h"

namespace tf::cpu {
namespace {

// stands in for an absent weight or bias: nothing to stage
const View kNone = [] {
  View v;
  v.rank = 1;
  return v;
}();

void k_layer_norm(OpCall& c) {
  F32In x(c.in[0]);
  F32Out y(c.out[0]);
  int64_t D = c.in[0].size(-1), rows = D ? c.in[0].numel() / D : 0;
  F32In w(c.in.size() > 1 ? c.in[1] : kNone), b(c.in.size() > 2 ? c.in[2] : kNone);
  bool has_w = c.in.size() > 1, has_b = c.in.size() > 2;
  float eps = static_cast<float>(c.attrs[0]);
  float *mean = c.out[1].ptr<float>(), *rstd = c.out[2].ptr<float>();
  const auto row = loops().layer_norm_row;
  parallel_for(rows, 3 * D, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) row(x.p + r * D, has_w ? w.p : nullptr, has_b ? b.p : nullptr, eps, y.p + r * D, mean + r, rstd + r, D);
  });
  y.commit();
}

void k_layer_norm_backward(OpCall& c) {
  F32In g(c.in[0]), x(c.in[1]);
  F32Out dx(c.out[0]);
  int64_t D = c.in[1].size(-1), rows = D ? c.in[1].numel() / D : 0;
  F32In mean_in(c.in[2]), rstd_in(c.in[3]), w_in(c.in.size() > 4 ? c.in[4] : kNone);
  const float *mean = mean_in.p, *rstd = rstd_in.p;
  const float* w = c.in.size() > 4 ? w_in.p : nullptr;
  int nt = max_threads();
  std::vector<std::vector<double>> part(static_cast<size_t>(nt), std::vector<double>(2 * D, 0.0));
  int64_t chunk = (rows + nt - 1) / nt;
  const auto row = loops().layer_norm_backward_row;
#pragma omp parallel for num_threads(nt) schedule(static, 1) if (rows * D > 32768)
  for (int t = 0; t < nt; ++t) {
    double* acc = part[t].data();
    for (int64_t r = t * chunk; r < std::min(rows, (t + 1) * chunk); ++r)
      row(g.p + r * D, x.p + r * D, mean[r], rstd[r], w, dx.p + r * D, acc, acc + D, D);
  }
  float *dw = c.out[1].ptr<float>(), *db = c.out[2].ptr<float>();
  for (int64_t j = 0; j < D; ++j) {
    double sw = 0, sb = 0;
    for (int t = 0; t < nt; ++t) {
      sw += part[t][j];
      sb += part[t][D + j];
    }
    dw[j] = static_cast<float>(sw);
    db[j] = static_cast<float>(sb);
  }
  dx.commit();
}

TF_REGISTER_KERNEL(cpu, layer_norm, k_layer_norm);
TF_REGISTER_KERNEL(cpu, layer_norm_backward, k_layer_norm_backward);

}  // namespace
}  // namespace tf::cpu
