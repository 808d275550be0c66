// CUDA cross-entropy with label smoothing: one block per row, the log-sum-exp by block reductions;
// the backward writes softmax - target scaled by the row's upstream gradient.
#include "common.cuh"

namespace tf::cuda {
namespace {

__device__ float row_lse(const DView& x, int64_t r, int64_t C) {
  float m = -INFINITY, s = 0.0f;
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) m = fmaxf(m, x.load(r * x.strides[0] + j * x.strides[1]));
  m = block_max(m);
  for (int64_t j = threadIdx.x; j < C; j += blockDim.x) s += __expf(x.load(r * x.strides[0] + j * x.strides[1]) - m);
  return m + logf(block_sum(s));
}
__device__ int64_t label(const DView& y, int64_t r) { return reinterpret_cast<const int32_t*>(y.data)[r * y.strides[0]]; }

__global__ void cross_entropy_kernel(DView x, DView y, DView loss, DView lse_out, int64_t N, int64_t C, int64_t ignore, float eps) {
  for (int64_t r = blockIdx.x; r < N; r += gridDim.x) {
    const float lse = row_lse(x, r, C);
    float all = 0.0f;  // sum_c (lse - z_c)
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x) all += lse - x.load(r * x.strides[0] + j * x.strides[1]);
    all = block_sum(all);
    if (threadIdx.x == 0) {
      const int64_t t = label(y, r);
      float l = 0.0f;
      if (t != ignore) l = (1.0f - eps) * (lse - x.load(r * x.strides[0] + t * x.strides[1])) + eps / static_cast<float>(C) * all;
      loss.store(r * loss.strides[0], l);
      lse_out.store(r * lse_out.strides[0], lse);
    }
  }
}

__global__ void cross_entropy_backward_kernel(DView x, DView y, DView lse, DView gl, DView dx, int64_t N, int64_t C, int64_t ignore, float eps) {
  for (int64_t r = blockIdx.x; r < N; r += gridDim.x) {
    const int64_t t = label(y, r);
    const bool ignored = t == ignore;
    const float l = lse.load(r * lse.strides[0]), g = gl.load(r * gl.strides[0]);
    for (int64_t j = threadIdx.x; j < C; j += blockDim.x) {
      const float target = (j == t ? 1.0f - eps : 0.0f) + eps / static_cast<float>(C);
      const float d = ignored ? 0.0f : g * (__expf(x.load(r * x.strides[0] + j * x.strides[1]) - l) - target);
      dx.store(r * dx.strides[0] + j * dx.strides[1], d);
    }
  }
}

int threads_for(int64_t C) { return block_threads((C + 3) / 4, 256); }  // about 4 classes per thread

void k_cross_entropy(OpCall& c) {
  const View& x = c.in[0];
  if (x.shape[0] == 0) return;
  cross_entropy_kernel<<<static_cast<unsigned>(std::min<int64_t>(x.shape[0], 65535)), threads_for(x.shape[1]), 0, stream()>>>(
      dview(x), dview(c.in[1]), dview(c.out[0]), dview(c.out[1]), x.shape[0], x.shape[1], static_cast<int64_t>(c.attrs[0]),
      static_cast<float>(c.attrs[1]));
  TF_CUDA_LAUNCHED();
}
void k_cross_entropy_backward(OpCall& c) {
  const View& x = c.in[0];
  if (x.shape[0] == 0) return;
  cross_entropy_backward_kernel<<<static_cast<unsigned>(std::min<int64_t>(x.shape[0], 65535)), threads_for(x.shape[1]), 0, stream()>>>(
      dview(x), dview(c.in[1]), dview(c.in[2]), dview(c.in[3]), dview(c.out[0]), x.shape[0], x.shape[1],
      static_cast<int64_t>(c.attrs[0]), static_cast<float>(c.attrs[1]));
  TF_CUDA_LAUNCHED();
}

TF_REGISTER_KERNEL(cuda, cross_entropy, k_cross_entropy);
TF_REGISTER_KERNEL(cuda, cross_entropy_backward, k_cross_entropy_backward);

}  // namespace
}  // namespace tf::cuda
