// CUDA int8 ops with the quantisation rule of qgemm.h (rintf rounds half to even, as nearbyint):
// per-channel weight quantisation (one block per row) and the int8 linear: activations quantised
// per row into scratch, then exact int32 dot products (dp4a) and the reference's epilogue.
#include "common.cuh"
#include "tensorforge/qgemm.h"
#include "tensorforge/scalar_math.h"

namespace tf::cuda {
namespace {

__device__ float scale_of(float amax) { return amax > 0.0f ? amax / 127.0f : 1.0f; }
__device__ float inv_scale_of(float amax) { return amax > 0.0f ? 127.0f / amax : 1.0f; }
__device__ int32_t quantize(float x, float inv) {
  const float q = rintf(x * inv);
  return static_cast<int32_t>(q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q));
}

// Quantises rows of a [..., K] view into q (contiguous [rows, Kp], Kp >= K, zero padded) and writes
// each row's scale (static_scale > 0: that one scale for every row).
__global__ void quantize_rows_kernel(DView v, int64_t rows, int64_t K, int64_t Kp, float static_scale, int8_t* q, float* scales) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = v.rank == 2 ? r * v.strides[0] : v.offset_of(r * K);
    const int64_t step = v.strides[v.rank - 1];
    float amax = 0.0f;
    for (int64_t k = threadIdx.x; k < K; k += blockDim.x) amax = fmaxf(amax, fabsf(v.load(base + k * step)));
    amax = block_max(amax);
    const float inv = static_scale > 0.0f ? 1.0f / static_scale : inv_scale_of(amax);
    const float sc = static_scale > 0.0f ? static_scale : scale_of(amax);
    for (int64_t k = threadIdx.x; k < Kp; k += blockDim.x) q[r * Kp + k] = static_cast<int8_t>(k < K ? quantize(v.load(base + k * step), inv) : 0);
    if (threadIdx.x == 0) scales[r] = sc;
  }
}

// y[m, n] = act(float(sum_k qx[m, k] qw[n, k]) * (sx[m] * sw[n]) + bias[n]) (+ residual[m, n]); one
// thread per output
__global__ void linear_int8_kernel(const int8_t* qx, const float* sx, const int8_t* qw, DView sw, DView bias, bool has_bias, int act, DView res,
                                   bool has_res, DView o, int64_t M, int64_t N, int64_t Kp) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < M * N; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t m = e / N, n = e % N;
    const int* a = reinterpret_cast<const int*>(qx + m * Kp);
    const int* b = reinterpret_cast<const int*>(qw + n * Kp);
    int acc = 0;
    for (int64_t k = 0; k < Kp / 4; ++k) acc = __dp4a(a[k], b[k], acc);
    float y = static_cast<float>(acc) * (sx[m] * sw.load(n * sw.strides[0]));
    if (has_bias) y += bias.load(n * bias.strides[0]);
    y = sm::activation(y, act);
    if (has_res) y += res.load(res.offset_of(e));
    o.store(o.offset_of(e), y);
  }
}

// outputs are contiguous (the binding and the tools allocate them so): q [N, K] int8, scale [N]
void k_quantize_per_channel(OpCall& c) {
  const View& w = c.in[0];
  const int64_t N = w.shape[0], K = w.shape[1];
  if (N == 0) return;
  quantize_rows_kernel<<<static_cast<unsigned>(std::min<int64_t>(N, 65535)), 128, 0, stream()>>>(
      dview(w), N, K, K, 0.0f, c.out[0].ptr<int8_t>(), c.out[1].ptr<float>());
  TF_CUDA_LAUNCHED();
}

// weights are already int8 [N, K]; they are copied once per call into 4-aligned rows
__global__ void pad_rows_kernel(DView w, int8_t* out, int64_t N, int64_t K, int64_t Kp) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < N * Kp; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t n = e / Kp, k = e % Kp;
    out[e] = k < K ? reinterpret_cast<const int8_t*>(w.data)[n * w.strides[0] + k * w.strides[1]] : 0;
  }
}

void k_linear_int8(OpCall& c) {
  const View &x = c.in[0], &w = c.in[1], &o = c.out[0];
  const int64_t N = w.shape[0], K = w.shape[1], M = N ? o.numel() / N : 0;
  if (M * N == 0) return;
  const int64_t Kp = (K + 3) / 4 * 4;
  Scratch qx(static_cast<size_t>(M * Kp)), sx(static_cast<size_t>(M) * sizeof(float)), qw(static_cast<size_t>(N * Kp));
  quantize_rows_kernel<<<static_cast<unsigned>(std::min<int64_t>(M, 65535)), 128, 0, stream()>>>(
      dview(x), M, K, Kp, static_cast<float>(c.attrs[0]), qx.as<int8_t>(), sx.as<float>());
  TF_CUDA_LAUNCHED();
  pad_rows_kernel<<<grid_for(N * Kp), kThreads, 0, stream()>>>(dview(w), qw.as<int8_t>(), N, K, Kp);
  TF_CUDA_LAUNCHED();
  const LinearTail tail = linear_tail(c, 3, 1);
  const int act = static_cast<int>(qgemm::activation_of(c.attrs));  // after the bias
  const DView bias = dview(tail.bias ? *tail.bias : c.in[2]), res = dview(tail.residual ? *tail.residual : c.in[2]);
  linear_int8_kernel<<<grid_for(M * N), kThreads, 0, stream()>>>(qx.as<int8_t>(), sx.as<float>(), qw.as<int8_t>(), dview(c.in[2]), bias,
                                                                   tail.bias != nullptr, act, res, tail.residual != nullptr, dview(o), M, N, Kp);
  TF_CUDA_LAUNCHED();
}

TF_REGISTER_KERNEL(cuda, quantize_per_channel, k_quantize_per_channel);
TF_REGISTER_KERNEL(cuda, linear_int8, k_linear_int8);

}  // namespace
}  // namespace tf::cuda
