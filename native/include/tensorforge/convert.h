// Runs of float16/bfloat16/float32 values converted to and from float32 buffers, with the dtype
// switch outside the loop, so kernels can process any float dtype in tight chunks.
#pragma once
#include <cstdint>
#include "tensorforge/dtype.h"

namespace tf {

// Runs of bfloat16 <-> float32 in the active ISA's vector loop (defined with cpu/loops.h's table)
void bf16_run_to_f32(const uint16_t* x, float* y, int64_t n);
void f32_run_to_bf16(const float* x, uint16_t* y, int64_t n);

inline void load_floats(const void* src, DType d, int64_t n, float* dst) {
  switch (d) {
    case DType::f32: { const float* s = static_cast<const float*>(src); for (int64_t i = 0; i < n; ++i) dst[i] = s[i]; break; }
    case DType::bf16: bf16_run_to_f32(static_cast<const uint16_t*>(src), dst, n); break;
    case DType::f16: { const uint16_t* s = static_cast<const uint16_t*>(src); for (int64_t i = 0; i < n; ++i) dst[i] = f16_to_f32(s[i]); break; }
    default: for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(load_as_double(static_cast<const char*>(src) + i * dtype_size(d), d));
  }
}

inline void store_floats(const float* src, int64_t n, void* dst, DType d) {
  switch (d) {
    case DType::f32: { float* o = static_cast<float*>(dst); for (int64_t i = 0; i < n; ++i) o[i] = src[i]; break; }
    case DType::bf16: f32_run_to_bf16(src, static_cast<uint16_t*>(dst), n); break;
    case DType::f16: { uint16_t* o = static_cast<uint16_t*>(dst); for (int64_t i = 0; i < n; ++i) o[i] = f32_to_f16(src[i]); break; }
    default: for (int64_t i = 0; i < n; ++i) store_double(static_cast<char*>(dst) + i * dtype_size(d), d, src[i]);
  }
}

}  // namespace tf
