// CUDA reductions (one block per output element, threads across the reduced sub-space, double
// accumulation) and softmax / log_softmax over the last dim (one block per row, the row staged in
// shared memory so it is read from global memory once).
#include <cmath>
#include "common.cuh"
#include "tensorforge/reduce_plan.h"

namespace tf::cuda {
namespace {

enum class Red { sum, mean, max, min, var };

template <Red R>
__global__ void reduce_kernel(DView kept, DView red, DView out, int64_t outer, int64_t inner, double correction) {
  for (int64_t i = blockIdx.x; i < outer; i += gridDim.x) {
    const int64_t base = kept.offset_of(i);
    double acc = R == Red::max ? -INFINITY : (R == Red::min ? INFINITY : 0.0);
    bool nan = false;
    for (int64_t r = threadIdx.x; r < inner; r += blockDim.x) {
      double v = red.load_d(base + red.offset_of(r));
      if (R == Red::max) { nan |= v != v; acc = fmax(acc, v); }
      else if (R == Red::min) { nan |= v != v; acc = fmin(acc, v); }
      else acc += v;
    }
    double result;
    if (R == Red::max || R == Red::min) {
      __shared__ double part[1024];
      __shared__ int any_nan;
      if (threadIdx.x == 0) any_nan = 0;
      __syncthreads();
      if (nan) any_nan = 1;
      part[threadIdx.x] = acc;
      __syncthreads();
      for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) part[threadIdx.x] = R == Red::max ? fmax(part[threadIdx.x], part[threadIdx.x + s]) : fmin(part[threadIdx.x], part[threadIdx.x + s]);
        __syncthreads();
      }
      result = any_nan ? NAN : part[0];
      __syncthreads();
    } else {
      const double total = block_sum(acc);
      if (R == Red::sum) {
        result = total;
      } else if (R == Red::mean) {
        result = total / static_cast<double>(inner);  // 0/0 = NaN for an empty group, as the reference
      } else {
        const double m = total / static_cast<double>(inner);
        double sq = 0;
        for (int64_t r = threadIdx.x; r < inner; r += blockDim.x) {
          double d = red.load_d(base + red.offset_of(r)) - m;
          sq += d * d;
        }
        sq = block_sum(sq);
        const double dof = static_cast<double>(inner) - correction;
        result = dof <= 0 ? NAN : sq / dof;
      }
    }
    if (threadIdx.x == 0) out.store(out.offset_of(i), result);
  }
}

// first index of the maximum; a NaN counts as the maximum
__device__ bool better(double v, int64_t i, double bv, int64_t bi) {
  const bool vn = v != v, bn = bv != bv;
  if (vn || bn) return vn && (!bn || i < bi);
  return v > bv || (v == bv && i < bi);
}
__global__ void argmax_kernel(DView kept, DView red, DView out, int64_t outer, int64_t inner) {
  __shared__ double pv[1024];
  __shared__ int64_t pi[1024];
  for (int64_t i = blockIdx.x; i < outer; i += gridDim.x) {
    const int64_t base = kept.offset_of(i);
    double bv = -INFINITY;
    int64_t bi = INT64_MAX;
    for (int64_t r = threadIdx.x; r < inner; r += blockDim.x) {
      double v = red.load_d(base + red.offset_of(r));
      if (bi == INT64_MAX || better(v, r, bv, bi)) { bv = v; bi = r; }
    }
    pv[threadIdx.x] = bv;
    pi[threadIdx.x] = bi;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
      if (threadIdx.x < s && pi[threadIdx.x + s] != INT64_MAX &&
          (pi[threadIdx.x] == INT64_MAX || better(pv[threadIdx.x + s], pi[threadIdx.x + s], pv[threadIdx.x], pi[threadIdx.x]))) {
        pv[threadIdx.x] = pv[threadIdx.x + s];
        pi[threadIdx.x] = pi[threadIdx.x + s];
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) out.store(out.offset_of(i), static_cast<double>(pi[0]));
    __syncthreads();
  }
}


template <Red R>
void k_reduce(OpCall& c) {
  ReducePlan p = reduce_plan(c);
  const int64_t outer = p.outer();
  if (outer == 0) return;
  const double correction = c.op == Op::var ? c.attrs[1] : 0.0;
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(outer, 65535));
  reduce_kernel<R><<<grid, block_threads(p.inner(), 256), 0, stream()>>>(dview(p.kept), dview(p.red), dview(c.out[0]), outer, p.inner(), correction);
  TF_CUDA_LAUNCHED();
}
void k_argmax(OpCall& c) {
  ReducePlan p = reduce_plan(c);
  if (p.outer() == 0) return;
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(p.outer(), 65535));
  argmax_kernel<<<grid, block_threads(p.inner(), 256), 0, stream()>>>(dview(p.kept), dview(p.red), dview(c.out[0]), p.outer(), p.inner());
  TF_CUDA_LAUNCHED();
}

enum class Soft { softmax, log_softmax, softmax_backward, log_softmax_backward };

// Row r of x (y for the backward ops) staged in shared memory when it fits, then the row formula.
template <Soft S>
__global__ void softmax_kernel(DView x, DView g, DView o, int64_t rows, int64_t n, bool staged) {
  extern __shared__ float row[];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * n;
    const BlockRow X = stage_row(x, base, n, row, staged);
    auto G = [&](int64_t j) { return g.load(g.offset_of(base + j)); };
    if constexpr (S == Soft::softmax || S == Soft::log_softmax) {
      float m = -INFINITY, s = 0.0f;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) m = fmaxf(m, X(j));
      m = block_max(m);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += __expf(X(j) - m);
      s = block_sum(s);
      const float inv = 1.0f / s, lse = m + logf(s);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x)
        o.store(o.offset_of(base + j), S == Soft::softmax ? __expf(X(j) - m) * inv : X(j) - lse);
    } else if constexpr (S == Soft::softmax_backward) {  // gx = y * (gy - sum(gy * y))
      float d = 0.0f;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) d += G(j) * X(j);
      d = block_sum(d);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) o.store(o.offset_of(base + j), X(j) * (G(j) - d));
    } else {  // gx = gy - exp(y) * sum(gy)
      float s = 0.0f;
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) s += G(j);
      s = block_sum(s);
      for (int64_t j = threadIdx.x; j < n; j += blockDim.x) o.store(o.offset_of(base + j), G(j) - __expf(X(j)) * s);
    }
    __syncthreads();  // the next row overwrites row[]
  }
}

template <Soft S>
void k_softmax(OpCall& c) {
  const View& x = c.in[0];
  const int64_t n = x.size(-1), rows = n == 0 ? 0 : x.numel() / n;
  if (rows == 0) return;
  const bool staged = n <= kStagedRowMax;
  const DView g = dview(c.in.size() > 1 ? c.in[1] : x);
  const unsigned grid = static_cast<unsigned>(std::min<int64_t>(rows, 65535));
  const size_t smem = staged ? static_cast<size_t>(n) * sizeof(float) : 0;
  softmax_kernel<S><<<grid, block_threads(n / 4, 256), smem, stream()>>>(dview(x), g, dview(c.out[0]), rows, n, staged);
  TF_CUDA_LAUNCHED();
}

TF_REGISTER_KERNEL(cuda, sum, k_reduce<Red::sum>);
TF_REGISTER_KERNEL(cuda, mean, k_reduce<Red::mean>);
TF_REGISTER_KERNEL(cuda, max, k_reduce<Red::max>);
TF_REGISTER_KERNEL(cuda, min, k_reduce<Red::min>);
TF_REGISTER_KERNEL(cuda, var, k_reduce<Red::var>);
TF_REGISTER_KERNEL(cuda, argmax, k_argmax);
TF_REGISTER_KERNEL(cuda, softmax, k_softmax<Soft::softmax>);
TF_REGISTER_KERNEL(cuda, log_softmax, k_softmax<Soft::log_softmax>);
TF_REGISTER_KERNEL(cuda, softmax_backward, k_softmax<Soft::softmax_backward>);
TF_REGISTER_KERNEL(cuda, log_softmax_backward, k_softmax<Soft::log_softmax_backward>);

}  // namespace
}  // namespace tf::cuda
