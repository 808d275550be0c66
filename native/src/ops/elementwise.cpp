// Shapes and checks of the elementwise ops (unary, binary with broadcasting, comparisons, copy,
// fill, clamp, where, masked_fill). Kernels: cpu/elementwise.cpp, cpu/ref/elementwise.cpp.
#include "tensorforge/iter.h"

namespace tf {

bool broadcast_shapes(const OutSpec& a, const OutSpec& b, OutSpec& out) {
  out.rank = std::max(a.rank, b.rank);
  for (int i = 0; i < out.rank; ++i) {
    int ia = i - (out.rank - a.rank), ib = i - (out.rank - b.rank);
    int64_t da = ia < 0 ? 1 : a.shape[ia], db = ib < 0 ? 1 : b.shape[ib];
    if (da != db && da != 1 && db != 1) return false;
    out.shape[i] = da == 1 ? db : da;
  }
  return true;
}

namespace {

bool keeps_int(Op op) { return op == Op::neg || op == Op::abs || op == Op::relu || op == Op::sign; }

void infer_unary(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 1);
  expect_attrs(c, 0, 0);
  if (!is_float(c.in[0].dtype) && !(keeps_int(c.op) && c.in[0].dtype == DType::i32))
    fail(c, std::string("needs a float tensor, got ") + dtype_name(c.in[0].dtype) + shape_str(c.in[0]));
  outs.push_back(spec_of(c.in[0]));
}

OutSpec broadcast_pair(const OpCall& c, size_t i, size_t j) {
  OutSpec s;
  if (!broadcast_shapes(spec_of(c.in[i]), spec_of(c.in[j]), s))
    fail(c, "shapes " + shape_str(c.in[i]) + " and " + shape_str(c.in[j]) + " do not broadcast");
  return s;
}

void infer_binary(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 0, 0);
  if (c.in[0].dtype != c.in[1].dtype)
    fail(c, std::string("dtypes differ: ") + dtype_name(c.in[0].dtype) + shape_str(c.in[0]) + " and " +
                dtype_name(c.in[1].dtype) + shape_str(c.in[1]));
  bool arith = c.op == Op::add || c.op == Op::sub || c.op == Op::mul || c.op == Op::maximum || c.op == Op::minimum;
  if (!is_float(c.in[0].dtype) && !(arith && c.in[0].dtype == DType::i32))
    fail(c, std::string("needs float tensors, got ") + dtype_name(c.in[0].dtype));
  OutSpec s = broadcast_pair(c, 0, 1);
  s.dtype = c.in[0].dtype;
  outs.push_back(s);
}

void infer_compare(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 0, 0);
  if (c.in[0].dtype != c.in[1].dtype)
    fail(c, std::string("dtypes differ: ") + dtype_name(c.in[0].dtype) + " and " + dtype_name(c.in[1].dtype));
  OutSpec s = broadcast_pair(c, 0, 1);
  s.dtype = DType::u8;
  outs.push_back(s);
}

// copy(src) [dtype]: src converted (round to nearest even) into a new contiguous tensor, or into a
// caller-provided output view that src broadcasts to.
void infer_copy(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 1, 1);
  expect_attrs(c, 0, 1);
  if (!c.out.empty()) {
    OutSpec s = spec_of(c.out[0]), b;
    if (!broadcast_shapes(spec_of(c.in[0]), s, b) || b.rank != s.rank ||
        !std::equal(b.shape, b.shape + b.rank, s.shape))
      fail(c, "source " + shape_str(c.in[0]) + " does not broadcast to destination " + shape_str(c.out[0]));
    outs.push_back(s);
    return;
  }
  DType d = c.attrs.empty() ? c.in[0].dtype : static_cast<DType>(attr_int(c, 0, "dtype", 0, kNumDTypes - 1));
  outs.push_back(spec_of(c.in[0], d));
}

// fill() [value]: writes value into the caller-provided output
void infer_fill(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 0, 0);
  expect_attrs(c, 1, 1);
  if (c.out.size() != 1) fail(c, "needs exactly one output tensor to fill");
  outs.push_back(spec_of(c.out[0]));
}

// clamp(x) [lo, hi] (use +-inf for no bound); clamp_backward(x, gy) [lo, hi]
void infer_clamp(const OpCall& c, std::vector<OutSpec>& outs) {
  size_t n = c.op == Op::clamp ? 1 : 2;
  expect_inputs(c, n, n);
  expect_attrs(c, 2, 2);
  expect_float(c, 0, "x");
  if (c.attrs[0] > c.attrs[1]) fail(c, "min " + std::to_string(c.attrs[0]) + " is above max " + std::to_string(c.attrs[1]));
  if (n == 2) {
    expect_dtype(c, 1, c.in[0].dtype, "gradient");
    OutSpec s = broadcast_pair(c, 0, 1);
    if (s.rank != c.in[0].rank || !std::equal(s.shape, s.shape + s.rank, c.in[0].shape))
      fail(c, "gradient " + shape_str(c.in[1]) + " does not match x " + shape_str(c.in[0]));
  }
  outs.push_back(spec_of(c.in[0]));
}

// where(cond uint8, a, b) with broadcasting of all three
void infer_where(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 3, 3);
  expect_attrs(c, 0, 0);
  expect_dtype(c, 0, DType::u8, "condition");
  if (c.in[1].dtype != c.in[2].dtype)
    fail(c, std::string("dtypes differ: ") + dtype_name(c.in[1].dtype) + " and " + dtype_name(c.in[2].dtype));
  OutSpec ab = broadcast_pair(c, 1, 2), s;
  if (!broadcast_shapes(spec_of(c.in[0]), ab, s))
    fail(c, "condition " + shape_str(c.in[0]) + " does not broadcast with " + shape_str(ab));
  s.dtype = c.in[1].dtype;
  outs.push_back(s);
}

// masked_fill(x, mask uint8) [value]: mask broadcasts to x
void infer_masked_fill(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 1, 1);
  expect_dtype(c, 1, DType::u8, "mask");
  OutSpec s = broadcast_pair(c, 0, 1);
  if (s.rank != c.in[0].rank || !std::equal(s.shape, s.shape + s.rank, c.in[0].shape))
    fail(c, "mask " + shape_str(c.in[1]) + " does not broadcast to x " + shape_str(c.in[0]));
  outs.push_back(spec_of(c.in[0]));
}

#define TF_UNARY(n) TF_REGISTER_INFER(n, infer_unary);
#define TF_BINARY(n) TF_REGISTER_INFER(n, infer_binary);
#define TF_COMPARE(n) TF_REGISTER_INFER(n, infer_compare);
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP
TF_REGISTER_INFER(copy, infer_copy);
TF_REGISTER_INFER(fill, infer_fill);
TF_REGISTER_INFER(clamp, infer_clamp);
TF_REGISTER_INFER(clamp_backward, infer_clamp);
TF_REGISTER_INFER(where, infer_where);
TF_REGISTER_INFER(masked_fill, infer_masked_fill);

}  // namespace
}  // namespace tf
