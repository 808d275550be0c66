// Shapes and checks of cross_entropy (per-row losses; the mean/sum reduction is done by the caller)
// and its backward.
#include "tensorforge/coords.h"
#include "tensorforge/op.h"

namespace tf {
namespace {

void check_labels(const OpCall& c, int64_t classes, int64_t ignore) {
  const View& y = c.in[1];
  expect_dtype(c, 1, DType::i32, "labels");
  if (y.rank != 1 || y.shape[0] != c.in[0].shape[0])
    fail(c, "labels " + shape_str(y) + " must be [" + std::to_string(c.in[0].shape[0]) + "] for logits " + shape_str(c.in[0]));
  std::vector<char> staging;
  const View labels = host_view(c, 1, staging);
  for (int64_t i = 0; i < y.shape[0]; ++i) {
    const int64_t v = index_at(labels, i * labels.strides[0]);
    if (v != ignore && (v < 0 || v >= classes))
      fail(c, "label " + std::to_string(v) + " at row " + std::to_string(i) + " is out of range [0, " + std::to_string(classes) + ")");
  }
}

void check_common(const OpCall& c) {
  expect_float(c, 0, "logits");
  expect_rank(c, 0, 2, 2, "logits");
  attr_int(c, 0, "ignore_index", -(int64_t(1) << 31), (int64_t(1) << 31) - 1);
  if (!(c.attrs[1] >= 0 && c.attrs[1] <= 1)) fail(c, "label_smoothing must be in [0, 1], got " + std::to_string(c.attrs[1]));
  if (c.in[0].shape[1] == 0) fail(c, "logits " + shape_str(c.in[0]) + " have no classes");
  check_labels(c, c.in[0].shape[1], static_cast<int64_t>(c.attrs[0]));
}

OutSpec rows_spec(const OpCall& c) {
  OutSpec s;
  s.dtype = DType::f32;
  s.rank = 1;
  s.shape[0] = c.in[0].shape[0];
  return s;
}

// cross_entropy(logits [N, C], labels int32 [N]) [ignore_index, label_smoothing] -> loss [N], lse [N]
void infer_cross_entropy(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 2, 2);
  check_common(c);
  outs.push_back(rows_spec(c));
  outs.push_back(rows_spec(c));
}

// cross_entropy_backward(logits, labels, lse [N], gloss [N]) [ignore_index, smoothing] -> dlogits
void infer_cross_entropy_backward(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 4, 4);
  expect_attrs(c, 2, 2);
  check_common(c);
  for (size_t i = 2; i < 4; ++i) {
    expect_dtype(c, i, DType::f32, i == 2 ? "lse" : "gradient");
    if (c.in[i].rank != 1 || c.in[i].shape[0] != c.in[0].shape[0])
      fail(c, std::string(i == 2 ? "lse " : "gradient ") + shape_str(c.in[i]) + " must be [" + std::to_string(c.in[0].shape[0]) + "]");
  }
  outs.push_back(spec_of(c.in[0]));
}

TF_REGISTER_INFER(cross_entropy, infer_cross_entropy);
TF_REGISTER_INFER(cross_entropy_backward, infer_cross_entropy_backward);

}  // namespace
}  // namespace tf
