// Flat index <-> coordinates, for kernels that remap one axis (gather, scatter, index_select).
#pragma once
#include "tensorforge/view.h"

namespace tf {

inline void unravel(int64_t flat, const int64_t* shape, int rank, int64_t* coord) {
  for (int d = rank - 1; d >= 0; --d) {
    coord[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
}
inline int64_t offset_at(const View& v, const int64_t* coord) {
  int64_t o = 0;
  for (int d = 0; d < v.rank; ++d) o += coord[d] * v.strides[d];
  return o;
}
inline int32_t index_at(const View& ix, int64_t off) { return *static_cast<const int32_t*>(ix.at(off)); }

}  // namespace tf
