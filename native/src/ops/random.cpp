// Shapes and checks of the Philox-driven ops. Seeds and offsets travel as doubles (< 2^53).
#include "tensorforge/op.h"

namespace tf {
namespace {

constexpr int64_t kMaxCounter = int64_t(1) << 53;

// rand_uniform() [seed, offset, low, high] / rand_normal() [seed, offset, mean, std]: fill the output
void infer_rand(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 0, 0);
  expect_attrs(c, 4, 4);
  attr_int(c, 0, "seed", 0, kMaxCounter);
  attr_int(c, 1, "offset", 0, kMaxCounter);
  if (c.out.size() != 1) fail(c, "needs exactly one output tensor to fill");
  if (!is_float(c.out[0].dtype)) fail(c, std::string("output must be a float tensor, got ") + dtype_name(c.out[0].dtype));
  if (c.op == Op::rand_normal && c.attrs[3] < 0) fail(c, "std must be >= 0, got " + std::to_string(c.attrs[3]));
  outs.push_back(spec_of(c.out[0]));
}

// dropout(x) [p, seed, offset] -> y, mask uint8 (1 = kept); y = x * mask / (1 - p)
void infer_dropout(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 1);
  expect_attrs(c, 3, 3);
  expect_float(c, 0, "input");
  if (!(c.attrs[0] >= 0 && c.attrs[0] < 1)) fail(c, "p must be in [0, 1), got " + std::to_string(c.attrs[0]));
  attr_int(c, 1, "seed", 0, kMaxCounter);
  attr_int(c, 2, "offset", 0, kMaxCounter);
  outs.push_back(spec_of(c.in[0]));
  outs.push_back(spec_of(c.in[0], DType::u8));
}

// dropout_backward(gy, mask) [p] -> gx
void infer_dropout_backward(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 1, 1);
  expect_float(c, 0, "gradient");
  expect_dtype(c, 1, DType::u8, "mask");
  if (!(c.attrs[0] >= 0 && c.attrs[0] < 1)) fail(c, "p must be in [0, 1), got " + std::to_string(c.attrs[0]));
  if (shape_str(c.in[0]) != shape_str(c.in[1])) fail(c, "mask " + shape_str(c.in[1]) + " does not match gradient " + shape_str(c.in[0]));
  outs.push_back(spec_of(c.in[0]));
}

TF_REGISTER_INFER(rand_uniform, infer_rand);
TF_REGISTER_INFER(rand_normal, infer_rand);
TF_REGISTER_INFER(dropout, infer_dropout);
TF_REGISTER_INFER(dropout_backward, infer_dropout_backward);

}  // namespace
}  // namespace tf
