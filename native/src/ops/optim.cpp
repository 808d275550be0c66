// Shapes and checks of the multi-tensor optimizer steps. They update their inputs in place and
// return nothing: one call covers every parameter of a group.
#include "tensorforge/op.h"

namespace tf {
namespace {

// tensors come in `per` lists of n: params, grads, then state lists; all float32, contiguous
void check_lists(const OpCall& c, size_t per) {
  if (c.in.empty() || c.in.size() % per != 0)
    fail(c, "expects " + std::to_string(per) + " lists of equal length, got " + std::to_string(c.in.size()) + " tensors");
  size_t n = c.in.size() / per;
  for (size_t i = 0; i < c.in.size(); ++i) {
    const View& t = c.in[i];
    const View& p = c.in[i % n];
    if (t.dtype != DType::f32 || !t.contiguous())
      fail(c, "tensor " + std::to_string(i) + " must be contiguous float32, got " + dtype_name(t.dtype) + shape_str(t));
    if (shape_str(t) != shape_str(p))
      fail(c, "tensor " + std::to_string(i) + " " + shape_str(t) + " does not match parameter " + shape_str(p));
  }
}

// adamw_step(params..., grads..., exp_avg..., exp_avg_sq...) [lr, beta1, beta2, eps, weight_decay, step]
void infer_adamw(const OpCall& c, std::vector<OutSpec>&) {
  expect_attrs(c, 6, 6);
  check_lists(c, 4);
  if (!(c.attrs[1] >= 0 && c.attrs[1] < 1) || !(c.attrs[2] >= 0 && c.attrs[2] < 1))
    fail(c, "betas must be in [0, 1), got " + std::to_string(c.attrs[1]) + ", " + std::to_string(c.attrs[2]));
  attr_int(c, 5, "step", 1, int64_t(1) << 50);
}

// sgd_step(params..., grads..., momentum_buffers...) [lr, momentum, dampening, weight_decay, nesterov, first]
void infer_sgd(const OpCall& c, std::vector<OutSpec>&) {
  expect_attrs(c, 6, 6);
  check_lists(c, 3);
  attr_int(c, 4, "nesterov", 0, 1);
  attr_int(c, 5, "first", 0, 1);
}

TF_REGISTER_INFER(adamw_step, infer_adamw);
TF_REGISTER_INFER(sgd_step, infer_sgd);

}  // namespace
}  // namespace tf
