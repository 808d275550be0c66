// What the attention kernels share: the problem as kernels see it, and which (query, key) pairs
// are visible through the causal and key padding masks.
#pragma once
#include "common.cuh"

namespace tf::cuda {

struct Attn {
  DView q, k, v, o, lse, go, mask;
  bool has_mask, causal;
  float scale;
  int64_t H, Sq, Sk, D, Dv;
};

__device__ __forceinline__ int64_t at4(const DView& t, int64_t b, int64_t h, int64_t s, int64_t d) {
  return b * t.strides[0] + h * t.strides[1] + s * t.strides[2] + d * t.strides[3];
}
__device__ __forceinline__ bool visible(const Attn& a, int64_t b, int64_t i, int64_t j) {
  if (i >= a.Sq || j >= a.Sk) return false;
  if (a.causal && j > i) return false;
  return !a.has_mask || a.mask.load(b * a.mask.strides[0] + j * a.mask.strides[1]) == 0.0f;
}

// The forward pass on tensor cores when q, k, v share a 16-bit dtype and D == Dv is 32, 64 or
// 128 (attention_tc.cu); false, launching nothing, otherwise.
bool attention_forward_tc(const Attn& a, int64_t B, DType q, DType k, DType v);

}  // namespace tf::cuda
