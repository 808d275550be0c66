// Contiguous float32 staging for kernels that want plain arrays: no copy when the view already is
// one, else a converted copy (inputs) or a buffer written back on commit (outputs). Copies walk the
// view's runs (dims merged where the strides allow) and convert each unit-stride run at once.
#pragma once
#include "tensorforge/convert.h"
#include "tensorforge/host_alloc.h"
#include "tensorforge/iter.h"
#include "tensorforge/parallel.h"

namespace tf {

inline void gather_floats(const View& v, float* dst) {
  Coalesced<1> c = coalesce<1>({&v});
  const int64_t inner = c.shape[c.rank - 1], stride = c.strides[0][c.rank - 1];
  parallel_for(outer_count(c), inner, [&](int64_t b, int64_t e) {
    int64_t flat = b * inner;
    for_each_run(c, b, e, [&](const int64_t* off, int64_t n, const int64_t*) {
      if (stride == 1) load_floats(v.at(off[0]), v.dtype, n, dst + flat);
      else for (int64_t i = 0; i < n; ++i) dst[flat + i] = static_cast<float>(v.get(off[0] + i * stride));
      flat += n;
    });
  });
}

inline void scatter_floats(const float* src, const View& v) {
  Coalesced<1> c = coalesce<1>({&v});
  const int64_t inner = c.shape[c.rank - 1], stride = c.strides[0][c.rank - 1];
  parallel_for(outer_count(c), inner, [&](int64_t b, int64_t e) {
    int64_t flat = b * inner;
    for_each_run(c, b, e, [&](const int64_t* off, int64_t n, const int64_t*) {
      if (stride == 1) store_floats(src + flat, n, v.at(off[0]), v.dtype);
      else for (int64_t i = 0; i < n; ++i) v.set(off[0] + i * stride, src[flat + i]);
      flat += n;
    });
  });
}

struct F32In {
  host::FloatBuffer own;
  const float* p = nullptr;
  explicit F32In(const View& v) {
    if (v.dtype == DType::f32 && v.contiguous()) {
      p = v.ptr<float>();
      return;
    }
    own.resize(static_cast<size_t>(v.numel()));
    if (!own.empty()) gather_floats(v, own.data());
    p = own.data();
  }
};

struct F32Out {
  const View& v;
  host::FloatBuffer own;
  float* p = nullptr;
  explicit F32Out(const View& view) : v(view) {
    if (v.dtype == DType::f32 && v.contiguous()) {
      p = v.ptr<float>();
      return;
    }
    own.resize(static_cast<size_t>(v.numel()));  // kernels write every element
    p = own.data();
  }
  void commit() {
    if (!own.empty()) scatter_floats(own.data(), v);
  }
};

}  // namespace tf
