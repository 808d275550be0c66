// Contiguous float32 staging for kernels that want plain arrays: no copy when the view already is
// one, else a converted copy (inputs) or a buffer written back on commit (outputs).
#pragma once
#include <vector>
#include "tensorforge/view.h"

namespace tf {

struct F32In {
  std::vector<float> own;
  const float* p = nullptr;
  explicit F32In(const View& v) {
    if (v.dtype == DType::f32 && v.contiguous()) {
      p = v.ptr<float>();
      return;
    }
    own.resize(static_cast<size_t>(v.numel()));
    for (int64_t i = 0; i < v.numel(); ++i) own[i] = static_cast<float>(v.get(v.offset_of(i)));
    p = own.data();
  }
};

struct F32Out {
  const View& v;
  std::vector<float> own;
  float* p = nullptr;
  explicit F32Out(const View& view) : v(view) {
    if (v.dtype == DType::f32 && v.contiguous()) {
      p = v.ptr<float>();
      return;
    }
    own.assign(static_cast<size_t>(v.numel()), 0.0f);
    p = own.data();
  }
  void commit() {
    if (own.empty()) return;
    for (int64_t i = 0; i < v.numel(); ++i) v.set(v.offset_of(i), own[i]);
  }
};

}  // namespace tf
