// CUDA elementwise ops: one grid-stride kernel over the output, every operand addressed through its
// (broadcast) strides, the scalar formulas of scalar_math.h. Float dtypes compute in float,
// integer ones in double (exact for int32), as the CPU kernels do.
#include "common.cuh"
#include "tensorforge/iter.h"
#include "tensorforge/scalar_math.h"

namespace tf::cuda {
namespace {

template <class T> __device__ T load(const DView& v, int64_t off);
template <> __device__ float load<float>(const DView& v, int64_t off) { return v.load(off); }
template <> __device__ double load<double>(const DView& v, int64_t off) { return v.load_d(off); }

// out = f(in0, ..., in{N-1}) for N = 0..3
template <class T, int N, class F>
__global__ void map_kernel(DView o, DView a, DView b, DView c, int64_t n, F f) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    T r;
    if constexpr (N == 0) r = f();
    else if constexpr (N == 1) r = f(load<T>(a, a.offset_of(i)));
    else if constexpr (N == 2) r = f(load<T>(a, a.offset_of(i)), load<T>(b, b.offset_of(i)));
    else r = f(load<T>(a, a.offset_of(i)), load<T>(b, b.offset_of(i)), load<T>(c, c.offset_of(i)));
    o.store(o.offset_of(i), r);
  }
}

bool all_float(const OpCall& c) {
  for (const View& v : c.in)
    if (!is_float(v.dtype)) return false;
  return is_float(c.out[0].dtype);
}

// Runs f over the output with every input broadcast to it, in float or double.
template <int N, class F>
void map(OpCall& c, F f) {
  const View& o = c.out[0];
  const int64_t n = o.numel();
  if (n == 0) return;
  DView v[3] = {dview(o), dview(o), dview(o)};  // unused slots: any valid view
  for (int k = 0; k < N; ++k) v[k] = dview(broadcast_view(c.in[k], spec_of(o)));
  const DView out = dview(o);
  if (all_float(c)) map_kernel<float, N><<<grid_for(n), kThreads, 0, stream()>>>(out, v[0], v[1], v[2], n, f);
  else map_kernel<double, N><<<grid_for(n), kThreads, 0, stream()>>>(out, v[0], v[1], v[2], n, f);
  TF_CUDA_LAUNCHED();
}

#define TF_UNARY(n) \
  struct F_##n { template <class T> __device__ T operator()(T x) const { return sm::n(x); } };
#define TF_BINARY(n) \
  struct F_##n { template <class T> __device__ T operator()(T a, T b) const { return sm::n(a, b); } };
#define TF_COMPARE(n) \
  struct F_##n { template <class T> __device__ T operator()(T a, T b) const { return sm::n(a, b) ? T(1) : T(0); } };
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP

#define TF_UNARY(n) void k_##n(OpCall& c) { map<1>(c, F_##n{}); }
#define TF_BINARY(n) void k_##n(OpCall& c) { map<2>(c, F_##n{}); }
#define TF_COMPARE(n) void k_##n(OpCall& c) { map<2>(c, F_##n{}); }
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP

struct Identity {
  template <class T> __device__ T operator()(T x) const { return x; }
};
struct Constant {
  double v;
  __device__ double operator()() const { return v; }
};
struct Clamp {
  double lo, hi;
  template <class T> __device__ T operator()(T x) const {
    return x != x ? x : (x < T(lo) ? T(lo) : (x > T(hi) ? T(hi) : x));
  }
};
struct ClampBackward {
  double lo, hi;
  template <class T> __device__ T operator()(T x, T g) const { return (x >= T(lo) && x <= T(hi)) ? g : T(0); }
};
struct Where {
  template <class T> __device__ T operator()(T m, T a, T b) const { return m != T(0) ? a : b; }
};
struct MaskedFill {
  double v;
  template <class T> __device__ T operator()(T x, T m) const { return m != T(0) ? T(v) : x; }
};

void k_copy(OpCall& c) { map<1>(c, Identity{}); }
// a float output holds the value rounded to float; an integer one the saturated integer
void k_fill(OpCall& c) { map<0>(c, Constant{c.attrs[0]}); }
void k_clamp(OpCall& c) { map<1>(c, Clamp{c.attrs[0], c.attrs[1]}); }
void k_clamp_backward(OpCall& c) { map<2>(c, ClampBackward{c.attrs[0], c.attrs[1]}); }
void k_where(OpCall& c) { map<3>(c, Where{}); }
void k_masked_fill(OpCall& c) { map<2>(c, MaskedFill{c.attrs[0]}); }

#define TF_UNARY(n) TF_REGISTER_KERNEL(cuda, n, k_##n);
#define TF_BINARY(n) TF_REGISTER_KERNEL(cuda, n, k_##n);
#define TF_COMPARE(n) TF_REGISTER_KERNEL(cuda, n, k_##n);
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP
TF_REGISTER_KERNEL(cuda, copy, k_copy);
TF_REGISTER_KERNEL(cuda, fill, k_fill);
TF_REGISTER_KERNEL(cuda, clamp, k_clamp);
TF_REGISTER_KERNEL(cuda, clamp_backward, k_clamp_backward);
TF_REGISTER_KERNEL(cuda, where, k_where);
TF_REGISTER_KERNEL(cuda, masked_fill, k_masked_fill);

}  // namespace
}  // namespace tf::cuda
