// Shapes and checks of layer_norm and its backward (normalised over the last dim).
#include "tensorforge/op.h"

namespace tf {
namespace {

// layer_norm(x [..., D], weight? [D], bias? [D]) [eps] -> y (x's dtype), mean [rows], rstd [rows]
void infer_layer_norm(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 3);
  expect_attrs(c, 1, 1);
  expect_float(c, 0, "input");
  expect_rank(c, 0, 1, kMaxRank, "input");
  if (!(c.attrs[0] >= 0)) fail(c, "eps must be >= 0, got " + std::to_string(c.attrs[0]));
  int64_t d = c.in[0].size(-1);
  for (size_t i = 1; i < c.in.size(); ++i) expect_vector(c, i, d, i == 1 ? "weight" : "bias");
  outs.push_back(spec_of(c.in[0]));
  OutSpec stats;
  stats.dtype = DType::f32;
  stats.rank = 1;
  stats.shape[0] = d == 0 ? 0 : c.in[0].numel() / d;
  outs.push_back(stats);
  outs.push_back(stats);
}

// layer_norm_backward(gy, x, mean, rstd, weight?) -> dx, dweight [D], dbias [D]
void infer_layer_norm_backward(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 4, 5);
  expect_attrs(c, 0, 0);
  expect_float(c, 1, "input");
  expect_rank(c, 1, 1, kMaxRank, "input");
  expect_dtype(c, 0, c.in[1].dtype, "gradient");
  if (shape_str(c.in[0]) != shape_str(c.in[1]))
    fail(c, "gradient " + shape_str(c.in[0]) + " does not match input " + shape_str(c.in[1]));
  int64_t d = c.in[1].size(-1), rows = d == 0 ? 0 : c.in[1].numel() / d;
  expect_vector(c, 2, rows, "mean");
  expect_vector(c, 3, rows, "rstd");
  if (c.in.size() == 5) expect_vector(c, 4, d, "weight");
  outs.push_back(spec_of(c.in[1]));
  OutSpec v;
  v.dtype = DType::f32;
  v.rank = 1;
  v.shape[0] = d;
  outs.push_back(v);
  outs.push_back(v);
}

TF_REGISTER_INFER(layer_norm, infer_layer_norm);
TF_REGISTER_INFER(layer_norm_backward, infer_layer_norm_backward);

}  // namespace
}  // namespace tf
