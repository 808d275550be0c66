// Reductions over a set of axes, as two views of one buffer: `kept` (the output's index space) and
// `red` (the reduced sub-space). attrs: [keepdim, (correction for var,) axes...]; no axes = all.
#pragma once
#include "tensorforge/op.h"

namespace tf {

struct ReducePlan {
  View kept;  // rank = number of kept dims, data = input data
  View red;   // rank = number of reduced dims
  int64_t outer() const { return kept.numel(); }
  int64_t inner() const { return red.numel(); }
};

inline size_t reduce_axes_start(Op op) { return op == Op::var ? 2 : 1; }

inline void reduce_mask(const OpCall& c, bool* reduced) {
  const View& x = c.in[0];
  size_t start = reduce_axes_start(c.op);
  bool all = c.attrs.size() == start;
  for (int d = 0; d < x.rank; ++d) reduced[d] = all;
  if (!all && x.rank == 0) fail(c, "cannot reduce over an axis of a scalar");
  bool seen[kMaxRank] = {};
  for (size_t i = start; i < c.attrs.size(); ++i) {
    int64_t a = attr_int(c, i, "axis", -x.rank, x.rank - 1);
    a = a < 0 ? a + x.rank : a;
    if (seen[a]) fail(c, "axis " + std::to_string(a) + " given twice");
    seen[a] = reduced[a] = true;
  }
}

inline ReducePlan reduce_plan(const OpCall& c) {
  bool reduced[kMaxRank];
  reduce_mask(c, reduced);
  const View& x = c.in[0];
  ReducePlan p;
  p.kept = x;
  p.red = x;
  p.kept.rank = p.red.rank = 0;
  for (int d = 0; d < x.rank; ++d) {
    View& v = reduced[d] ? p.red : p.kept;
    v.shape[v.rank] = x.shape[d];
    v.strides[v.rank] = x.strides[d];
    ++v.rank;
  }
  return p;
}

}  // namespace tf
