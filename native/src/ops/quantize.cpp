// Shapes and checks of the int8 ops: per-channel weight quantisation and the int8 linear.
#include "tensorforge/qgemm.h"
#include "tensorforge/iter.h"

namespace tf {
namespace {

// quantize_per_channel(w [N, K] float) -> (q int8 [N, K], scale float32 [N])
void infer_quantize_per_channel(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 1);
  expect_attrs(c, 0, 0);
  expect_float(c, 0, "weight");
  expect_rank(c, 0, 2, 2, "weight");
  outs.push_back(spec_of(c.in[0], DType::i8));
  OutSpec s;
  s.rank = 1;
  s.shape[0] = c.in[0].shape[0];
  outs.push_back(s);
}

// linear_int8(x [..., K] float, q int8 [N, K], scale float32 [N], bias? float32 [N], residual?
// [..., N]; attrs: activation scale, > 0 static, 0 dynamic per row; residual? as linear's;
// bf16 out? 1: bfloat16 output; activation? 0 none, 1 relu, 2 gelu (erf), after the bias)
// -> float32 (or bfloat16) [..., N]
void infer_linear_int8(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_attrs(c, 1, 4);
  const bool residual = c.attrs.size() >= 2 && attr_int(c, 1, "residual", 0, 1) == 1;
  const bool bf16_out = c.attrs.size() >= 3 && attr_int(c, 2, "bf16 out", 0, 1) == 1;
  const int64_t act = c.attrs.size() == 4 ? attr_int(c, 3, "activation", 0, 2) : 0;
  if (act != 0 && residual) fail(c, "an activation and a residual together: which comes first is not defined");
  expect_inputs(c, residual ? 4 : 3, residual ? 5 : 4);
  expect_float(c, 0, "input");
  expect_rank(c, 0, 1, kMaxRank, "input");
  expect_dtype(c, 1, DType::i8, "weight");
  expect_rank(c, 1, 2, 2, "weight");
  const View &x = c.in[0], &w = c.in[1];
  const int64_t N = w.shape[0], K = w.shape[1];
  if (x.size(-1) != K)
    fail(c, "input " + shape_str(x) + " has " + std::to_string(x.size(-1)) + " features, weight " + shape_str(w) + " expects " + std::to_string(K));
  if (K > qgemm::kMaxK) fail(c, "K = " + std::to_string(K) + " exceeds " + std::to_string(qgemm::kMaxK) + " (int32 accumulation)");
  expect_vector(c, 2, N, "weight scale");
  const LinearTail tail = linear_tail(c, 3, 1);
  if (tail.bias) expect_vector(c, 3, N, "bias");
  double s = c.attrs[0];
  if (!(s >= 0.0) || !std::isfinite(s)) fail(c, "activation scale must be finite and >= 0 (0: dynamic), got " + std::to_string(s));
  OutSpec o = spec_of(x, bf16_out ? DType::bf16 : DType::f32);
  o.shape[o.rank - 1] = N;
  if (tail.residual) expect_residual(c, c.in.size() - 1, o);
  outs.push_back(o);
}

TF_REGISTER_INFER(quantize_per_channel, infer_quantize_per_channel);
TF_REGISTER_INFER(linear_int8, infer_linear_int8);

}  // namespace
}  // namespace tf
