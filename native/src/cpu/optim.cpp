// CPU multi-tensor optimizer steps: every parameter of the call in one parallel pass, with the
// arithmetic (and its order) of torch.optim.AdamW / SGD in float32.
#include <cmath>
#include "loops.h"
#include "tensorforge/op.h"
#include "tensorforge/parallel.h"

namespace tf::cpu {
namespace {

template <class F>
void each_param(OpCall& c, size_t lists, F f) {
  size_t n = c.in.size() / lists;
  for (size_t i = 0; i < n; ++i)
    parallel_for(c.in[i].numel(), 16, [&](int64_t b, int64_t e) { f(i, n, b, e); });
}

void k_adamw_step(OpCall& c) {
  float b1 = static_cast<float>(c.attrs[1]), b2 = static_cast<float>(c.attrs[2]), eps = static_cast<float>(c.attrs[3]);
  double t = c.attrs[5];
  // scalar factors in double, as Python computes them before PyTorch applies them in float32
  float bc2_sqrt = static_cast<float>(std::sqrt(1 - std::pow(c.attrs[2], t)));
  float step = static_cast<float>(c.attrs[0] / (1 - std::pow(c.attrs[1], t)));
  float decay = static_cast<float>(1 - c.attrs[0] * c.attrs[4]);
  const AdamWFactors f{decay, b1, b2, bc2_sqrt, eps, step};
  const auto update = loops().adamw;
  each_param(c, 4, [&](size_t i, size_t n, int64_t b, int64_t e) {
    float *p = c.in[i].ptr<float>(), *g = c.in[n + i].ptr<float>(), *m = c.in[2 * n + i].ptr<float>(), *v = c.in[3 * n + i].ptr<float>();
    update(p + b, g + b, m + b, v + b, e - b, f);
  });
}

void k_sgd_step(OpCall& c) {
  float lr = static_cast<float>(c.attrs[0]), mom = static_cast<float>(c.attrs[1]), damp = static_cast<float>(c.attrs[2]);
  float wd = static_cast<float>(c.attrs[3]);
  bool nesterov = c.attrs[4] != 0, first = c.attrs[5] != 0;
  each_param(c, 3, [&](size_t i, size_t n, int64_t b, int64_t e) {
    float *p = c.in[i].ptr<float>(), *g = c.in[n + i].ptr<float>(), *buf = c.in[2 * n + i].ptr<float>();
    for (int64_t j = b; j < e; ++j) {
      float d = g[j] + wd * p[j];
      if (mom != 0.0f) {
        buf[j] = first ? d : mom * buf[j] + (1.0f - damp) * d;
        d = nesterov ? d + mom * buf[j] : buf[j];
      }
      p[j] -= lr * d;
    }
  });
}

TF_REGISTER_KERNEL(cpu, adamw_step, k_adamw_step);
TF_REGISTER_KERNEL(cpu, sgd_step, k_sgd_step);

}  // namespace
}  // namespace tf::cpu
