// What every CUDA kernel file shares: the checked-call macro, the backend's stream, a View as a
// kernel sees it (loads and stores of any dtype through float or double), launch sizes and
// block-wide reductions.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <cstdint>
#include <string>
#include "tensorforge/cuda.h"
#include "tensorforge/op.h"

namespace tf::cuda {

[[noreturn]] void throw_error(cudaError_t e, const char* what, const char* file, int line);
#define TF_CUDA_CHECK(call)                                                         \
  do {                                                                              \
    cudaError_t tf_err_ = (call);                                                   \
    if (tf_err_ != cudaSuccess) ::tf::cuda::throw_error(tf_err_, #call, __FILE__, __LINE__); \
  } while (0)
// after every launch: a bad configuration shows up here, a fault inside the kernel on the next sync
#define TF_CUDA_LAUNCHED() TF_CUDA_CHECK(cudaGetLastError())

cudaStream_t stream();
int sm_count();
// Raises a kernel's dynamic shared memory limit to `bytes` (above the default 48 KiB); the driver is
// asked only when a launch needs more than any earlier one of that kernel.
void allow_dynamic_smem(const void* kernel, size_t bytes);
// A scratch device buffer for one kernel call, back to the cache when it goes out of scope.
class Scratch {
 public:
  Scratch() = default;
  explicit Scratch(size_t bytes) { resize(bytes); }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { release(p_); }
  void resize(size_t bytes) {
    release(p_);
    p_ = nullptr;
    p_ = bytes ? alloc(bytes) : nullptr;
  }
  template <class T> T* as() const { return static_cast<T*>(p_); }

 private:
  void* p_ = nullptr;
};

// A View for kernels: passed by value, strides in elements, `contig` lets flat loops skip the
// index arithmetic.
struct DView {
  char* data;
  int dtype;
  int rank;
  bool contig;
  int64_t shape[kMaxRank];
  int64_t strides[kMaxRank];

  __device__ int64_t offset_of(int64_t flat) const {
    if (contig) return flat;
    int64_t off = 0;
    for (int i = rank - 1; i >= 0; --i) {
      off += (flat % shape[i]) * strides[i];
      flat /= shape[i];
    }
    return off;
  }
  __device__ float load(int64_t off) const {
    switch (dtype) {
      case 0: return reinterpret_cast<const float*>(data)[off];
      case 1: return __half2float(reinterpret_cast<const __half*>(data)[off]);
      case 2: return __bfloat162float(reinterpret_cast<const __nv_bfloat16*>(data)[off]);
      case 3: return static_cast<float>(reinterpret_cast<const int32_t*>(data)[off]);
      case 4: return static_cast<float>(reinterpret_cast<const int8_t*>(data)[off]);
      default: return static_cast<float>(reinterpret_cast<const uint8_t*>(data)[off]);
    }
  }
  __device__ double load_d(int64_t off) const {
    switch (dtype) {
      case 3: return reinterpret_cast<const int32_t*>(data)[off];
      case 4: return reinterpret_cast<const int8_t*>(data)[off];
      case 5: return reinterpret_cast<const uint8_t*>(data)[off];
      default: return load(off);
    }
  }
  // floats round to nearest even; integers truncate and saturate, NaN stores 0 (as dtype.h does)
  __device__ void store(int64_t off, double v) const {
    switch (dtype) {
      case 0: reinterpret_cast<float*>(data)[off] = static_cast<float>(v); break;
      case 1: reinterpret_cast<__half*>(data)[off] = __float2half_rn(static_cast<float>(v)); break;
      case 2: reinterpret_cast<__nv_bfloat16*>(data)[off] = __float2bfloat16_rn(static_cast<float>(v)); break;
      case 3: reinterpret_cast<int32_t*>(data)[off] = static_cast<int32_t>(saturate(v, -2147483648.0, 2147483647.0)); break;
      case 4: reinterpret_cast<int8_t*>(data)[off] = static_cast<int8_t>(saturate(v, -128, 127)); break;
      default: reinterpret_cast<uint8_t*>(data)[off] = static_cast<uint8_t>(saturate(v, 0, 255)); break;
    }
  }
  __device__ void store(int64_t off, float v) const {
    if (dtype == 0) reinterpret_cast<float*>(data)[off] = v;
    else store(off, static_cast<double>(v));
  }
  __device__ static double saturate(double v, double lo, double hi) {
    if (v != v) return 0;
    v = trunc(v);
    return v < lo ? lo : (v > hi ? hi : v);
  }
};

inline DView dview(const View& v) {
  DView d;
  d.data = v.data;
  d.dtype = static_cast<int>(v.dtype);
  d.rank = v.rank;
  d.contig = v.contiguous();
  for (int i = 0; i < kMaxRank; ++i) {
    d.shape[i] = i < v.rank ? v.shape[i] : 1;
    d.strides[i] = i < v.rank ? v.strides[i] : 0;
  }
  return d;
}

// Threads for a block that works through `items` items: a power of two from 32 up to `cap`.
inline int block_threads(int64_t items, int cap) {
  int t = 32;
  while (t < cap && t < items) t *= 2;
  return t;
}

// A grid-stride launch over n items: enough blocks to fill the device a few times over.
constexpr int kThreads = 256;
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t want = (n + threads - 1) / threads, cap = static_cast<int64_t>(sm_count()) * 8;
  return static_cast<unsigned>(want < 1 ? 1 : (want > cap ? cap : want));
}

template <class T>
__device__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T>
__device__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Sum / max over the block (blockDim.x a multiple of 32, at most 1024); every thread gets the result.
template <class T, class F>
__device__ T block_reduce(T v, F warp_op, T identity) {
  __shared__ T part[32];
  v = warp_op(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
  __syncthreads();  // part[] may still be read by a previous call
  if (lane == 0) part[warp] = v;
  __syncthreads();
  v = lane < warps ? part[lane] : identity;
  return warp_op(v);
}
template <class T>
__device__ T block_sum(T v) {
  return block_reduce(v, [](T x) { return warp_sum(x); }, T(0));
}
template <class T>
__device__ T block_max(T v) {
  return block_reduce(v, [](T x) { return warp_max(x); }, T(-INFINITY));
}

// Row [base, base + n) of x for one block: copied once into shared memory `row` when `staged` (the
// row fits: n <= kStagedRowMax), read from global memory at every use otherwise.
constexpr int64_t kStagedRowMax = 12288;  // floats (48 KiB)
struct BlockRow {
  const DView& x;
  int64_t base;
  const float* row;
  bool staged;
  __device__ float operator()(int64_t j) const { return staged ? row[j] : x.load(x.offset_of(base + j)); }
};
__device__ inline BlockRow stage_row(const DView& x, int64_t base, int64_t n, float* row, bool staged) {
  if (staged)
    for (int64_t j = threadIdx.x; j < n; j += blockDim.x) row[j] = x.load(x.offset_of(base + j));
  __syncthreads();
  return {x, base, row, staged};
}

}  // namespace tf::cuda
