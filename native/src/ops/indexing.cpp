// Shapes and checks of embedding, gather, index_select and their backward ops (scatter-adds).
// Index values are checked here, once for every backend, before any kernel reads them.
#include "tensorforge/coords.h"
#include "tensorforge/op.h"

namespace tf {
namespace {

void check_indices(const OpCall& c, size_t i, int64_t limit, const char* what) {
  expect_dtype(c, i, DType::i32, what);
  std::vector<char> staging;
  const View ix = host_view(c, i, staging);
  for (int64_t k = 0; k < ix.numel(); ++k) {
    const int64_t v = index_at(ix, ix.offset_of(k));
    if (v < 0 || v >= limit)
      fail(c, std::string(what) + " " + std::to_string(v) + " at flat position " + std::to_string(k) + " is out of range [0, " +
                  std::to_string(limit) + ")");
  }
}

// embedding(weight [V, D], indices int32 [...], scale? float32 [V]) -> [..., D]; with a scale, an
// int8 table's rows come out as float32 values times their row's scale (one pass, no int8 copy)
void infer_embedding(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 3);
  expect_attrs(c, 0, 0);
  expect_rank(c, 0, 2, 2, "weight");
  expect_rank(c, 1, 0, kMaxRank - 1, "indices");
  const bool scaled = c.in.size() == 3;
  if (scaled) {
    expect_dtype(c, 0, DType::i8, "weight with a scale");
    expect_vector(c, 2, c.in[0].shape[0], "row scale");
  }
  check_indices(c, 1, c.in[0].shape[0], "index");
  OutSpec s = spec_of(c.in[1], scaled ? DType::f32 : c.in[0].dtype);
  s.shape[s.rank++] = c.in[0].shape[1];
  outs.push_back(s);
}

// embedding_backward(gy [..., D], indices [...]) [num_embeddings] -> dweight float32 [V, D]
void infer_embedding_backward(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 1, 1);
  int64_t V = attr_int(c, 0, "num_embeddings", 0, int64_t(1) << 40);
  expect_float(c, 0, "gradient");
  const View &g = c.in[0], &ix = c.in[1];
  bool ok = g.rank == ix.rank + 1;
  for (int d = 0; ok && d < ix.rank; ++d) ok = g.shape[d] == ix.shape[d];
  if (!ok) fail(c, "gradient " + shape_str(g) + " does not match indices " + shape_str(ix) + " + [D]");
  check_indices(c, 1, V, "index");
  OutSpec s;
  s.dtype = DType::f32;
  s.rank = 2;
  s.shape[0] = V;
  s.shape[1] = g.size(-1);
  outs.push_back(s);
}

int64_t dim_attr(const OpCall& c, int rank) {
  int64_t d = attr_int(c, 0, "dim", -rank, rank - 1);
  return d < 0 ? d + rank : d;
}

// gather(x, index int32 same rank) [dim] -> index's shape: out[i..] = x[.. index[i..] at dim ..]
void infer_gather(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 1, 1);
  const View &x = c.in[0], &ix = c.in[1];
  expect_rank(c, 0, 1, kMaxRank, "input");
  int64_t dim = dim_attr(c, x.rank);
  if (ix.rank != x.rank) fail(c, "index " + shape_str(ix) + " must have the rank of input " + shape_str(x));
  for (int d = 0; d < x.rank; ++d)
    if (d != dim && ix.shape[d] > x.shape[d])
      fail(c, "index " + shape_str(ix) + " is larger than input " + shape_str(x) + " in dim " + std::to_string(d));
  check_indices(c, 1, x.shape[dim], "index");
  outs.push_back(spec_of(ix, x.dtype));
}

// scatter_add(src, index) [dim, out shape...] -> zeros(out shape) with src added at index along dim
void infer_scatter_add(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  const View &src = c.in[0], &ix = c.in[1];
  expect_attrs(c, 1 + static_cast<size_t>(src.rank), 1 + static_cast<size_t>(src.rank));
  expect_float(c, 0, "source");
  expect_rank(c, 0, 1, kMaxRank, "source");
  int64_t dim = dim_attr(c, src.rank);
  if (shape_str(src) != shape_str(ix)) fail(c, "index " + shape_str(ix) + " must match source " + shape_str(src));
  OutSpec s;
  s.dtype = src.dtype;
  s.rank = src.rank;
  for (int d = 0; d < src.rank; ++d) {
    s.shape[d] = attr_int(c, 1 + d, "size", 0, int64_t(1) << 40);
    if (d != dim && s.shape[d] < src.shape[d]) fail(c, "output " + shape_str(s) + " is smaller than source " + shape_str(src));
  }
  check_indices(c, 1, s.shape[dim], "index");
  outs.push_back(s);
}

// index_select(x, index int32 [n]) [dim] -> x with dim replaced by n
void infer_index_select(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 1, 1);
  expect_rank(c, 0, 1, kMaxRank, "input");
  expect_rank(c, 1, 1, 1, "index");
  int64_t dim = dim_attr(c, c.in[0].rank);
  check_indices(c, 1, c.in[0].shape[dim], "index");
  OutSpec s = spec_of(c.in[0]);
  s.shape[dim] = c.in[1].shape[0];
  outs.push_back(s);
}

// index_add(src, index [n]) [dim, size] -> zeros with dim of length size, src rows added at index
void infer_index_add(const OpCall& c, std::vector<OutSpec>& outs) {
  expect_inputs(c, 2, 2);
  expect_attrs(c, 2, 2);
  expect_float(c, 0, "source");
  expect_rank(c, 0, 1, kMaxRank, "source");
  expect_rank(c, 1, 1, 1, "index");
  int64_t dim = dim_attr(c, c.in[0].rank);
  int64_t size = attr_int(c, 1, "size", 0, int64_t(1) << 40);
  if (c.in[1].shape[0] != c.in[0].shape[dim])
    fail(c, "index " + shape_str(c.in[1]) + " must have the length of dim " + std::to_string(dim) + " of " + shape_str(c.in[0]));
  check_indices(c, 1, size, "index");
  OutSpec s = spec_of(c.in[0]);
  s.shape[dim] = size;
  outs.push_back(s);
}

TF_REGISTER_INFER(embedding, infer_embedding);
TF_REGISTER_INFER(embedding_backward, infer_embedding_backward);
TF_REGISTER_INFER(gather, infer_gather);
TF_REGISTER_INFER(scatter_add, infer_scatter_add);
TF_REGISTER_INFER(index_select, infer_index_select);
TF_REGISTER_INFER(index_add, infer_index_add);

}  // namespace
}  // namespace tf
