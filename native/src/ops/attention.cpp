// Shapes and checks of fused scaled-dot-product attention and its backward.
// q [B,H,Sq,D], k [B,H,Sk,D], v [B,H,Sk,Dv], optional key padding mask uint8 [B,Sk] (1 = ignore).
#include <cmath>
#include "tensorforge/op.h"

namespace tf {
namespace {

void check_qkv(const OpCall& c, size_t mask_index) {
  for (size_t i = 0; i < 3; ++i) {
    const char* n = i == 0 ? "q" : (i == 1 ? "k" : "v");
    expect_rank(c, i, 4, 4, n);
    expect_dtype(c, i, c.in[0].dtype, n);
  }
  expect_float(c, 0, "q");
  const View &q = c.in[0], &k = c.in[1], &v = c.in[2];
  if (k.shape[0] != q.shape[0] || k.shape[1] != q.shape[1] || k.shape[3] != q.shape[3] || v.shape[0] != q.shape[0] ||
      v.shape[1] != q.shape[1] || v.shape[2] != k.shape[2])
    fail(c, "q " + shape_str(q) + ", k " + shape_str(k) + ", v " + shape_str(v) + " do not fit [B,H,Sq,D], [B,H,Sk,D], [B,H,Sk,Dv]");
  if (c.in.size() > mask_index) {
    expect_dtype(c, mask_index, DType::u8, "key padding mask");
    const View& m = c.in[mask_index];
    if (m.rank != 2 || m.shape[0] != q.shape[0] || m.shape[1] != k.shape[2])
      fail(c, "key padding mask " + shape_str(m) + " must be [" + std::to_string(q.shape[0]) + "," + std::to_string(k.shape[2]) + "]");
  }
  if (!(c.attrs[0] > 0) || !std::isfinite(c.attrs[0])) fail(c, "scale must be positive, got " + std::to_string(c.attrs[0]));
  attr_int(c, 1, "causal", 0, 1);
}

OutSpec lse_spec(const View& q) {
  OutSpec s;
  s.dtype = DType::f32;
  s.rank = 3;
  s.shape[0] = q.shape[0];
  s.shape[1] = q.shape[1];
  s.shape[2] = q.shape[2];
  return s;
}

// attention(q, k, v, mask?) [scale, causal] -> out [B,H,Sq,Dv], lse float32 [B,H,Sq]
void infer_attention(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 3, 4);
  expect_attrs(c, 2, 2);
  check_qkv(c, 3);
  OutSpec o = spec_of(c.in[0]);
  o.shape[3] = c.in[2].shape[3];
  outs.push_back(o);
  outs.push_back(lse_spec(c.in[0]));
}

// attention_backward(q, k, v, out, lse, gout, mask?) [scale, causal] -> dq, dk, dv
void infer_attention_backward(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 6, 7);
  expect_attrs(c, 2, 2);
  check_qkv(c, 6);
  OutSpec o = spec_of(c.in[0]);
  o.shape[3] = c.in[2].shape[3];
  for (size_t i : {size_t(3), size_t(5)}) {
    expect_dtype(c, i, c.in[0].dtype, i == 3 ? "out" : "gradient");
    if (shape_str(c.in[i]) != shape_str(o)) fail(c, std::string(i == 3 ? "out " : "gradient ") + shape_str(c.in[i]) + " must be " + shape_str(o));
  }
  expect_dtype(c, 4, DType::f32, "lse");
  if (shape_str(c.in[4]) != shape_str(lse_spec(c.in[0]))) fail(c, "lse " + shape_str(c.in[4]) + " must be " + shape_str(lse_spec(c.in[0])));
  outs.push_back(spec_of(c.in[0]));
  outs.push_back(spec_of(c.in[1]));
  outs.push_back(spec_of(c.in[2]));
}

TF_REGISTER_INFER(attention, infer_attention);
TF_REGISTER_INFER(attention_backward, infer_attention_backward);

}  // namespace
}  // namespace tf
