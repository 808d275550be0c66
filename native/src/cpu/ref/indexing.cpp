// Reference embedding, gather, index_select and their scatter-add backward ops: flat loops over
// coordinates.
#include "tensorforge/coords.h"
#include "tensorforge/op.h"

namespace tf::ref {
namespace {

void zero(const View& o) {
  for (int64_t i = 0; i < o.numel(); ++i) o.set(o.offset_of(i), 0.0);
}

void k_embedding(OpCall& c) {
  const View &w = c.in[0], &ix = c.in[1], &o = c.out[0];
  int64_t D = w.shape[1];
  const View* scale = c.in.size() == 3 ? &c.in[2] : nullptr;
  for (int64_t t = 0; t < ix.numel(); ++t) {
    int64_t row = index_at(ix, ix.offset_of(t));
    for (int64_t j = 0; j < D; ++j) {
      const double v = w.get(row * w.strides[0] + j * w.strides[1]);
      // a float32 product, as every backend computes it
      o.set(o.offset_of(t * D + j), scale ? static_cast<float>(v) * static_cast<float>(scale->get(scale->offset_of(row))) : v);
    }
  }
}
void k_embedding_backward(OpCall& c) {
  const View &g = c.in[0], &ix = c.in[1], &o = c.out[0];
  zero(o);
  int64_t D = o.shape[1];
  for (int64_t t = 0; t < ix.numel(); ++t) {
    int64_t row = index_at(ix, ix.offset_of(t));
    for (int64_t j = 0; j < D; ++j) {
      int64_t off = row * o.strides[0] + j * o.strides[1];
      o.set(off, o.get(off) + g.get(g.offset_of(t * D + j)));
    }
  }
}

// src/index are walked by coordinate; dst coordinate = same with `dim` replaced by the index value
template <bool kGather>
void remap(OpCall& c) {
  const View &a = c.in[0], &ix = c.in[1], &o = c.out[0];
  int dim = static_cast<int>(c.attrs[0] < 0 ? c.attrs[0] + a.rank : c.attrs[0]);
  if (!kGather) zero(o);
  int64_t coord[kMaxRank];
  for (int64_t i = 0; i < ix.numel(); ++i) {
    unravel(i, ix.shape, ix.rank, coord);
    int64_t ioff = offset_at(ix, coord);
    int64_t keep = coord[dim];
    if (kGather) {
      int64_t ooff = offset_at(o, coord);
      coord[dim] = index_at(ix, ioff);
      o.set(ooff, a.get(offset_at(a, coord)));
    } else {
      double v = a.get(offset_at(a, coord));
      coord[dim] = index_at(ix, ioff);
      int64_t ooff = offset_at(o, coord);
      o.set(ooff, o.get(ooff) + v);
    }
    coord[dim] = keep;
  }
}
void k_gather(OpCall& c) { remap<true>(c); }
void k_scatter_add(OpCall& c) { remap<false>(c); }

// index_select: out[.., i, ..] = x[.., index[i], ..]; index_add: out[.., index[i], ..] += src[.., i, ..]
template <bool kSelect>
void select(OpCall& c) {
  const View &a = c.in[0], &ix = c.in[1], &o = c.out[0];
  int dim = static_cast<int>(c.attrs[0] < 0 ? c.attrs[0] + a.rank : c.attrs[0]);
  if (!kSelect) zero(o);
  const View& walk = kSelect ? o : a;
  int64_t coord[kMaxRank];
  for (int64_t i = 0; i < walk.numel(); ++i) {
    unravel(i, walk.shape, walk.rank, coord);
    int64_t woff = offset_at(walk, coord);
    coord[dim] = index_at(ix, coord[dim] * ix.strides[0]);
    if (kSelect) {
      o.set(woff, a.get(offset_at(a, coord)));
    } else {
      int64_t ooff = offset_at(o, coord);
      o.set(ooff, o.get(ooff) + a.get(woff));
    }
  }
}
void k_index_select(OpCall& c) { select<true>(c); }
void k_index_add(OpCall& c) { select<false>(c); }

TF_REGISTER_KERNEL(ref, embedding, k_embedding);
TF_REGISTER_KERNEL(ref, embedding_backward, k_embedding_backward);
TF_REGISTER_KERNEL(ref, gather, k_gather);
TF_REGISTER_KERNEL(ref, scatter_add, k_scatter_add);
TF_REGISTER_KERNEL(ref, index_select, k_index_select);
TF_REGISTER_KERNEL(ref, index_add, k_index_add);

}  // namespace
}  // namespace tf::ref
