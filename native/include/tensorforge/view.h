// A strided view of a buffer: what every kernel receives. Strides are in elements, never negative.
#pragma once
#include <cstdint>
#include "tensorforge/dtype.h"

namespace tf {

constexpr int kMaxRank = 6;

struct View {
  char* data = nullptr;  // points at element [0,...,0]
  DType dtype = DType::f32;
  int rank = 0;
  int64_t shape[kMaxRank] = {0};
  int64_t strides[kMaxRank] = {0};
  // the buffer's identity and its count of writes, from the binding (0: unknown): kernels may keep
  // work derived from an operand (a packed weight) for as long as both stay the same
  uint64_t storage_id = 0, version = 0;

  int64_t numel() const {
    int64_t n = 1;
    for (int i = 0; i < rank; ++i) n *= shape[i];
    return n;
  }
  int64_t size(int d) const { return shape[d < 0 ? d + rank : d]; }
  bool contiguous() const {
    int64_t s = 1;
    for (int i = rank - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != s) return false;
      s *= shape[i];
    }
    return true;
  }
  // element offset of a flat (row-major) index
  int64_t offset_of(int64_t flat) const {
    int64_t off = 0;
    for (int i = rank - 1; i >= 0 && flat > 0; --i) {
      off += (flat % shape[i]) * strides[i];
      flat /= shape[i];
    }
    return off;
  }
  void* at(int64_t elem_offset) const { return data + elem_offset * dtype_size(dtype); }
  template <class T> T* ptr() const { return reinterpret_cast<T*>(data); }
  double get(int64_t elem_offset) const { return load_as_double(at(elem_offset), dtype); }
  void set(int64_t elem_offset, double v) const { store_double(at(elem_offset), dtype, v); }
};

// Row-major contiguous strides for a shape.
inline void set_contiguous_strides(View& v) {
  int64_t s = 1;
  for (int i = v.rank - 1; i >= 0; --i) { v.strides[i] = s; s *= v.shape[i]; }
}

}  // namespace tf
