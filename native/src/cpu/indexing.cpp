// CPU embedding, gather, index_select and scatter-adds. Embedding rows are contiguous copies;
// scatter-adds split the work over output columns so no two threads add into one element.
#include <algorithm>
#include <cstring>
#include "tensorforge/coords.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"
#include "tensorforge/op.h"

namespace tf::cpu {
namespace {

void k_embedding(OpCall& c) {
  const View &w = c.in[0], &ix = c.in[1], &o = c.out[0];
  int64_t D = w.shape[1], T = ix.numel();
  const View* scale = c.in.size() == 3 ? &c.in[2] : nullptr;  // an int8 table's row scales
  bool fast = (scale || w.dtype == o.dtype) && w.strides[1] == 1 && o.contiguous();
  int es = dtype_size(w.dtype);
  // rows are picked at random from a table larger than L2: ask for a row a few tokens ahead, or
  // each row's load waits out a miss
  constexpr int64_t kAhead = 4;
  const int64_t row_bytes = std::min<int64_t>(D * es, 1024);
  parallel_for(T, D, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      if (fast && t + kAhead < t1) {
        const char* next = static_cast<const char*>(w.at(index_at(ix, ix.offset_of(t + kAhead)) * w.strides[0]));
        for (int64_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(next + b);
      }
      int64_t row = index_at(ix, ix.offset_of(t));
      const float s = scale ? static_cast<float>(scale->get(scale->offset_of(row))) : 1.0f;
      if (fast && scale) {
        const int8_t* src = w.ptr<int8_t>() + row * w.strides[0];
        float* dst = o.ptr<float>() + t * D;
        for (int64_t j = 0; j < D; ++j) dst[j] = static_cast<float>(src[j]) * s;
      } else if (fast) {
        std::memcpy(o.at(t * D), w.at(row * w.strides[0]), static_cast<size_t>(D * es));
      } else {
        for (int64_t j = 0; j < D; ++j) {
          const double v = w.get(row * w.strides[0] + j * w.strides[1]);
          o.set(o.offset_of(t * D + j), scale ? static_cast<float>(v) * s : v);
        }
      }
    }
  });
}

// dW[idx[t], :] += g[t, :]: threads own column ranges, tokens in order (deterministic)
void k_embedding_backward(OpCall& c) {
  F32In g(c.in[0]);
  const View &ix = c.in[1], &o = c.out[0];
  int64_t D = o.shape[1], T = ix.numel();
  float* dw = o.ptr<float>();
  std::memset(dw, 0, sizeof(float) * static_cast<size_t>(o.numel()));
  std::vector<int32_t> rows(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) rows[t] = index_at(ix, ix.offset_of(t));
  parallel_for(D, T, [&](int64_t j0, int64_t j1) {
    for (int64_t t = 0; t < T; ++t) {
      float* dst = dw + rows[t] * D;
      const float* src = g.p + t * D;
      for (int64_t j = j0; j < j1; ++j) dst[j] += src[j];
    }
  });
}

int norm_dim(const OpCall& c, int rank) { return static_cast<int>(c.attrs[0] < 0 ? c.attrs[0] + rank : c.attrs[0]); }

void k_gather(OpCall& c) {
  const View &x = c.in[0], &ix = c.in[1], &o = c.out[0];
  int dim = norm_dim(c, x.rank);
  parallel_for(ix.numel(), 4, [&](int64_t i0, int64_t i1) {
    int64_t coord[kMaxRank];
    for (int64_t i = i0; i < i1; ++i) {
      unravel(i, ix.shape, ix.rank, coord);
      int64_t ooff = offset_at(o, coord);
      coord[dim] = index_at(ix, offset_at(ix, coord));
      o.set(ooff, x.get(offset_at(x, coord)));
    }
  });
}

// out = zeros; out[.. at(coord, a) ..] += src[.. a ..] along `dim`. Work is split by the coordinates
// outside `dim` ("lines"), so each thread owns disjoint output slices and adds in source order.
template <class At>
void add_along(OpCall& c, At at) {
  const View &src = c.in[0], &o = c.out[0];
  int dim = norm_dim(c, src.rank);
  for (int64_t i = 0; i < o.numel(); ++i) o.set(o.offset_of(i), 0.0);
  int64_t along = src.shape[dim], lines = along ? src.numel() / along : 0;
  int64_t line_shape[kMaxRank];
  int rank = 0;
  for (int d = 0; d < src.rank; ++d)
    if (d != dim) line_shape[rank++] = src.shape[d];
  parallel_for(lines, along, [&](int64_t l0, int64_t l1) {
    int64_t lc[kMaxRank], coord[kMaxRank];
    for (int64_t l = l0; l < l1; ++l) {
      unravel(l, line_shape, rank, lc);
      for (int d = 0, k = 0; d < src.rank; ++d) coord[d] = d == dim ? 0 : lc[k++];
      for (int64_t a = 0; a < along; ++a) {
        coord[dim] = a;
        double v = src.get(offset_at(src, coord));
        coord[dim] = at(coord, a);
        int64_t off = offset_at(o, coord);
        o.set(off, o.get(off) + v);
      }
    }
  });
}

// scatter_add: the destination index is index[coord] (index has the source's shape)
void k_scatter_add(OpCall& c) {
  const View& ix = c.in[1];
  add_along(c, [&](const int64_t* coord, int64_t) { return index_at(ix, offset_at(ix, coord)); });
}

void k_index_select(OpCall& c) {
  const View &x = c.in[0], &ix = c.in[1], &o = c.out[0];
  int dim = norm_dim(c, x.rank);
  parallel_for(o.numel(), 4, [&](int64_t i0, int64_t i1) {
    int64_t coord[kMaxRank];
    for (int64_t i = i0; i < i1; ++i) {
      unravel(i, o.shape, o.rank, coord);
      int64_t ooff = offset_at(o, coord);
      coord[dim] = index_at(ix, coord[dim] * ix.strides[0]);
      o.set(ooff, x.get(offset_at(x, coord)));
    }
  });
}

// index_add: the destination index along `dim` is index[a]
void k_index_add(OpCall& c) {
  const View& ix = c.in[1];
  add_along(c, [&](const int64_t*, int64_t a) { return index_at(ix, a * ix.strides[0]); });
}

TF_REGISTER_KERNEL(cpu, embedding, k_embedding);
TF_REGISTER_KERNEL(cpu, embedding_backward, k_embedding_backward);
TF_REGISTER_KERNEL(cpu, gather, k_gather);
TF_REGISTER_KERNEL(cpu, scatter_add, k_scatter_add);
TF_REGISTER_KERNEL(cpu, index_select, k_index_select);
TF_REGISTER_KERNEL(cpu, index_add, k_index_add);

}  // namespace
}  // namespace tf::cpu
