// CUDA Philox ops: element i of the output draws stream element i (normal: 2i and 2i+1), the same
// functions as the CPU (philox.h), so a seed gives the same numbers and dropout masks on both.
#include "common.cuh"
#include "tensorforge/philox.h"

namespace tf::cuda {
namespace {

template <bool kNormal>
__global__ void rand_kernel(DView o, int64_t n, uint64_t seed, uint64_t offset, double a, double b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const double u = kNormal ? philox_normal(seed, offset, static_cast<uint64_t>(i)) : philox_uniform(seed, offset, static_cast<uint64_t>(i));
    o.store(o.offset_of(i), kNormal ? a + b * u : a + (b - a) * u);
  }
}

__global__ void dropout_kernel(DView x, DView y, DView m, int64_t n, double p, float scale, uint64_t seed, uint64_t offset) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const bool keep = static_cast<double>(philox_uniform(seed, offset, static_cast<uint64_t>(i))) >= p;
    m.store(m.offset_of(i), keep ? 1.0f : 0.0f);
    y.store(y.offset_of(i), keep ? x.load(x.offset_of(i)) * scale : 0.0f);
  }
}

__global__ void dropout_backward_kernel(DView g, DView m, DView o, int64_t n, float scale) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    o.store(o.offset_of(i), m.load(m.offset_of(i)) != 0.0f ? g.load(g.offset_of(i)) * scale : 0.0f);
}

uint64_t u64(double v) { return static_cast<uint64_t>(v); }

template <bool kNormal>
void k_rand(OpCall& c) {
  const int64_t n = c.out[0].numel();
  if (n == 0) return;
  rand_kernel<kNormal><<<grid_for(n), kThreads, 0, stream()>>>(dview(c.out[0]), n, u64(c.attrs[0]), u64(c.attrs[1]), c.attrs[2], c.attrs[3]);
  TF_CUDA_LAUNCHED();
}
void k_dropout(OpCall& c) {
  const int64_t n = c.in[0].numel();
  if (n == 0) return;
  dropout_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.out[0]), dview(c.out[1]), n, c.attrs[0],
                                                          static_cast<float>(1.0 / (1.0 - c.attrs[0])), u64(c.attrs[1]), u64(c.attrs[2]));
  TF_CUDA_LAUNCHED();
}
void k_dropout_backward(OpCall& c) {
  const int64_t n = c.in[0].numel();
  if (n == 0) return;
  dropout_backward_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.in[1]), dview(c.out[0]), n,
                                                                   static_cast<float>(1.0 / (1.0 - c.attrs[0])));
  TF_CUDA_LAUNCHED();
}

TF_REGISTER_KERNEL(cuda, rand_uniform, k_rand<false>);
TF_REGISTER_KERNEL(cuda, rand_normal, k_rand<true>);
TF_REGISTER_KERNEL(cuda, dropout, k_dropout);
TF_REGISTER_KERNEL(cuda, dropout_backward, k_dropout_backward);

}  // namespace
}  // namespace tf::cuda
