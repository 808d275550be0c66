// Shapes and checks of matmul (batched, broadcasting batch dims, any strides) and linear.
#include "tensorforge/iter.h"

namespace tf {
namespace {

// matmul(a [..., M, K], b [..., K, N]) -> [..., M, N]; batch dims broadcast; dtypes equal (float).
void infer_matmul(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 0, 0);
  expect_float(c, 0, "a");
  expect_float(c, 1, "b");
  expect_rank(c, 0, 2, kMaxRank, "a");
  expect_rank(c, 1, 2, kMaxRank, "b");
  const View &a = c.in[0], &b = c.in[1];
  if (a.dtype != b.dtype) fail(c, std::string("dtypes differ: ") + dtype_name(a.dtype) + " and " + dtype_name(b.dtype));
  if (a.size(-1) != b.size(-2))
    fail(c, "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot be multiplied (" + std::to_string(a.size(-1)) +
                " != " + std::to_string(b.size(-2)) + ")");
  OutSpec ba = spec_of(a), bb = spec_of(b), s;
  ba.rank -= 2;
  bb.rank -= 2;
  if (!broadcast_shapes(ba, bb, s)) fail(c, "batch dims of " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
  s.shape[s.rank++] = a.size(-2);
  s.shape[s.rank++] = b.size(-1);
  s.dtype = a.dtype;
  outs.push_back(s);
}

// linear(x [..., K], w [N, K], bias? [N], residual? [..., N]) [residual?] -> [..., N] =
// x w^T + bias (+ residual, a fused residual connection: attribute 1 says the last input is one;
// the output is float32 when the residual's dtype differs from x's)
void infer_linear(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_attrs(c, 0, 1);
  const bool residual = !c.attrs.empty() && attr_int(c, 0, "residual", 0, 1) == 1;
  expect_inputs(c, residual ? 3 : 2, residual ? 4 : 3);
  expect_float(c, 0, "input");
  expect_rank(c, 0, 1, kMaxRank, "input");
  expect_rank(c, 1, 2, 2, "weight");
  const View &x = c.in[0], &w = c.in[1];
  if (w.dtype != x.dtype) fail(c, std::string("weight dtype ") + dtype_name(w.dtype) + " differs from input " + dtype_name(x.dtype));
  if (x.size(-1) != w.shape[1])
    fail(c, "input " + shape_str(x) + " has " + std::to_string(x.size(-1)) + " features, weight " + shape_str(w) + " expects " +
                std::to_string(w.shape[1]));
  const LinearTail tail = linear_tail(c, 2, 0);
  if (tail.bias) expect_vector(c, 2, w.shape[0], "bias");
  OutSpec s = spec_of(x);
  s.shape[s.rank - 1] = w.shape[0];
  if (tail.residual) {
    expect_residual(c, c.in.size() - 1, s);
    // as linear then add would give: a bfloat16 product plus a float32 residual is float32
    if (tail.residual->dtype != s.dtype) s.dtype = DType::f32;
  }
  outs.push_back(s);
}

TF_REGISTER_INFER(matmul, infer_matmul);
TF_REGISTER_INFER(linear, infer_linear);

}  // namespace
}  // namespace tf
