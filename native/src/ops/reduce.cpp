// Shapes and checks of sum, mean, max, min, argmax, var (attrs in reduce_plan.h) and of softmax
// and log_softmax (last dim) with their backward ops.
#include "tensorforge/reduce_plan.h"

namespace tf {
namespace {

void infer_reduce(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 1);
  size_t start = reduce_axes_start(c.op);
  expect_attrs(c, start, start + kMaxRank);
  bool keepdim = attr_int(c, 0, "keepdim", 0, 1) == 1;
  if (c.op == Op::var) attr_int(c, 1, "correction", 0, 1 << 30);
  if (c.op == Op::argmax && c.attrs.size() != 2) fail(c, "takes exactly one axis");
  const View& x = c.in[0];
  if (c.op == Op::sum || c.op == Op::max || c.op == Op::min) {
    if (!is_float(x.dtype) && x.dtype != DType::i32 && x.dtype != DType::u8)
      fail(c, std::string("unsupported dtype ") + dtype_name(x.dtype));
  } else if (c.op != Op::argmax) {
    expect_float(c, 0, "x");
  }
  bool reduced[kMaxRank];
  reduce_mask(c, reduced);
  OutSpec s;
  s.dtype = c.op == Op::argmax ? DType::i32 : (c.op == Op::sum && x.dtype == DType::u8 ? DType::i32 : x.dtype);
  for (int d = 0; d < x.rank; ++d) {
    if (reduced[d] && x.shape[d] == 0 && (c.op == Op::max || c.op == Op::min || c.op == Op::argmax))
      fail(c, "cannot reduce over the empty axis " + std::to_string(d) + " of " + shape_str(x));
    if (!reduced[d]) s.shape[s.rank++] = x.shape[d];
    else if (keepdim) s.shape[s.rank++] = 1;
  }
  outs.push_back(s);
}

// softmax(x), log_softmax(x): over the last dim
void infer_softmax(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 1);
  expect_attrs(c, 0, 0);
  expect_float(c, 0, "x");
  expect_rank(c, 0, 1, kMaxRank, "x");
  outs.push_back(spec_of(c.in[0]));
}
// softmax_backward(y, gy), log_softmax_backward(y, gy)
void infer_softmax_backward(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 0, 0);
  expect_float(c, 0, "y");
  expect_rank(c, 0, 1, kMaxRank, "y");
  expect_dtype(c, 1, c.in[0].dtype, "gradient");
  if (shape_str(c.in[0]) != shape_str(c.in[1]))
    fail(c, "gradient " + shape_str(c.in[1]) + " does not match output " + shape_str(c.in[0]));
  outs.push_back(spec_of(c.in[0]));
}

TF_REGISTER_INFER(sum, infer_reduce);
TF_REGISTER_INFER(mean, infer_reduce);
TF_REGISTER_INFER(max, infer_reduce);
TF_REGISTER_INFER(min, infer_reduce);
TF_REGISTER_INFER(argmax, infer_reduce);
TF_REGISTER_INFER(var, infer_reduce);
TF_REGISTER_INFER(softmax, infer_softmax);
TF_REGISTER_INFER(log_softmax, infer_softmax);
TF_REGISTER_INFER(softmax_backward, infer_softmax_backward);
TF_REGISTER_INFER(log_softmax_backward, infer_softmax_backward);

}  // namespace
}  // namespace tf
