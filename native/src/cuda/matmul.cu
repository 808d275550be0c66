// CUDA matmul and linear on the GEMM of gemm.cuh: matmul's B and linear's weight are read as Bt
// (N x K) through their strides.
#include "gemm.cuh"
#include "tensorforge/iter.h"

namespace tf::cuda {
namespace {

// The batch part of v seen with the output's batch dims (stride 0 where broadcast).
DView batch_of(const View& v, const View& out) {
  OutSpec s = spec_of(out);
  s.rank -= 2;
  View b = v;
  b.rank -= 2;
  DView d = dview(broadcast_view(b, s));
  d.contig = false;  // offsets come from the strides, never from the flat index
  return d;
}

int64_t batch_count(const View& out) {
  int64_t n = 1;
  for (int d = 0; d < out.rank - 2; ++d) n *= out.shape[d];
  return n;
}

void k_matmul(OpCall& c) {
  const View &a = c.in[0], &b = c.in[1], &o = c.out[0];
  const int r = o.rank;
  GemmArgs g{};
  g.M = o.shape[r - 2];
  g.N = o.shape[r - 1];
  g.K = a.shape[a.rank - 1];
  g.batch = batch_count(o);
  g.a = {a.data, static_cast<int>(a.dtype), a.strides[a.rank - 2], a.strides[a.rank - 1], batch_of(a, o)};
  g.bt = {b.data, static_cast<int>(b.dtype), b.strides[b.rank - 1], b.strides[b.rank - 2], batch_of(b, o)};
  g.c = o.data;
  g.c_dtype = static_cast<int>(o.dtype);
  g.bias = dview(o);
  gemm(g);  // K = 0 writes zeros
}

// The stride between rows of x [..., K] when its leading dims merge into one; -1 when they do not.
int64_t row_stride(const View& x) {
  int64_t stride = 0, span = 1;
  for (int d = x.rank - 2; d >= 0; --d) {
    if (x.shape[d] == 1) continue;
    if (span == 1) stride = x.strides[d];
    else if (x.strides[d] != stride * span) return -1;
    span *= x.shape[d];
  }
  return stride;
}

// o += r element by element (linear's fused residual, added after the GEMM's bias)
__global__ void add_residual_kernel(DView o, DView r, int64_t n) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t off = o.offset_of(e);
    o.store(off, o.load(off) + r.load(r.offset_of(e)));
  }
}

void k_linear(OpCall& c) {
  const View &x = c.in[0], &w = c.in[1], &o = c.out[0];
  const LinearTail tail = linear_tail(c, 2, 0);
  GemmArgs g{};
  g.K = x.shape[x.rank - 1];
  g.N = w.shape[0];
  g.M = g.N ? o.numel() / g.N : 0;
  g.batch = 1;
  g.c = o.data;
  g.c_dtype = static_cast<int>(o.dtype);
  g.has_bias = tail.bias != nullptr;
  g.bias = dview(g.has_bias ? *tail.bias : o);
  const DView nobatch{};
  g.bt = {w.data, static_cast<int>(w.dtype), w.strides[0], w.strides[1], nobatch};
  Scratch sx;
  const int64_t rs = row_stride(x);
  if (rs >= 0) {
    g.a = {x.data, static_cast<int>(x.dtype), rs, x.strides[x.rank - 1], nobatch};
  } else {  // rows through the leading dims' own strides, copied to a contiguous [M, K]
    View lead = x;
    lead.rank -= 1;
    Operand rows{x.data, static_cast<int>(x.dtype), 0, x.strides[x.rank - 1], dview(lead)};
    rows.batch.contig = false;
    g.a = materialize(rows, 1, g.K, g.M, sx);  // [M, 1, K]: rows K apart, one batch entry
    g.a.batch = nobatch;
  }
  gemm(g);  // K = 0 writes the bias (or zeros)
  if (tail.residual && o.numel() > 0) {
    add_residual_kernel<<<grid_for(o.numel()), kThreads, 0, stream()>>>(dview(o), dview(*tail.residual), o.numel());
    TF_CUDA_LAUNCHED();
  }
}

TF_REGISTER_KERNEL(cuda, matmul, k_matmul);
TF_REGISTER_KERNEL(cuda, linear, k_linear);

}  // namespace
}  // namespace tf::cuda
