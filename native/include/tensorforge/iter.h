// Broadcasting and strided iteration shared by the elementwise-style kernels.
#pragma once
#include <algorithm>
#include <array>
#include <vector>
#include "tensorforge/op.h"

namespace tf {

// PyTorch broadcasting of two shapes; false when they do not broadcast.
bool broadcast_shapes(const OutSpec& a, const OutSpec& b, OutSpec& out);

// v seen with the rank and shape of `shape` (stride 0 on broadcast dims). Caller checked it broadcasts.
inline View broadcast_view(const View& v, const OutSpec& shape) {
  View r = v;
  r.rank = shape.rank;
  int lead = shape.rank - v.rank;
  for (int i = 0; i < shape.rank; ++i) {
    int j = i - lead;
    r.shape[i] = shape.shape[i];
    r.strides[i] = (j < 0 || v.shape[j] == 1) ? 0 : v.strides[j];
  }
  return r;
}

// N views of one shape, with adjacent dims merged where every view allows it, so the inner loop
// runs over the longest possible unit: for contiguous tensors, one dim of numel elements.
template <size_t N>
struct Coalesced {
  int rank = 0;
  int64_t shape[kMaxRank];
  int64_t strides[N][kMaxRank];
};

template <size_t N>
Coalesced<N> coalesce(const std::array<const View*, N>& views) {
  Coalesced<N> c;
  const View& v0 = *views[0];
  for (int d = 0; d < v0.rank; ++d) {
    if (v0.shape[d] == 1) continue;
    bool merge = c.rank > 0;
    for (size_t k = 0; merge && k < N; ++k)
      merge = c.strides[k][c.rank - 1] == views[k]->strides[d] * v0.shape[d];
    if (merge) {
      c.shape[c.rank - 1] *= v0.shape[d];
      for (size_t k = 0; k < N; ++k) c.strides[k][c.rank - 1] = views[k]->strides[d];
    } else {
      c.shape[c.rank] = v0.shape[d];
      for (size_t k = 0; k < N; ++k) c.strides[k][c.rank] = views[k]->strides[d];
      ++c.rank;
    }
  }
  if (c.rank == 0) {  // scalar or all-ones shape
    c.rank = 1;
    c.shape[0] = 1;
    for (size_t k = 0; k < N; ++k) c.strides[k][0] = 0;
  }
  return c;
}

// Calls fn(offsets, inner_count, inner_strides) for each run of the innermost dim, for runs
// [begin, end) of the outer index space (so OpenMP can split the outer space).
template <size_t N, class Fn>
void for_each_run(const Coalesced<N>& c, int64_t begin, int64_t end, Fn&& fn) {
  const int r = c.rank;
  const int64_t inner = c.shape[r - 1];
  int64_t inner_strides[N];
  for (size_t k = 0; k < N; ++k) inner_strides[k] = c.strides[k][r - 1];
  for (int64_t o = begin; o < end; ++o) {
    int64_t off[N] = {0};
    int64_t rem = o;
    for (int d = r - 2; d >= 0 && rem > 0; --d) {
      int64_t i = rem % c.shape[d];
      rem /= c.shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * c.strides[k][d];
    }
    fn(off, inner, inner_strides);
  }
}
template <size_t N>
int64_t outer_count(const Coalesced<N>& c) {
  int64_t n = 1;
  for (int d = 0; d < c.rank - 1; ++d) n *= c.shape[d];
  return n;
}

}  // namespace tf
