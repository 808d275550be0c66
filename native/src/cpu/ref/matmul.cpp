// Reference matmul and linear: the triple loop, double accumulation.
#include "tensorforge/iter.h"

namespace tf::ref {
namespace {

// C[b] = A[b] B[b] over broadcast batch views; bias and residual (a view like o) optional
void mm(const View& a, const View& b, const View* bias, const View& o, const View* residual = nullptr) {
  int r = o.rank;
  int64_t M = o.shape[r - 2], N = o.shape[r - 1], K = a.shape[r - 2 + 1];
  int64_t batch = M * N == 0 ? 0 : o.numel() / (M * N);
  for (int64_t t = 0; t < batch; ++t) {
    int64_t ao = a.offset_of(t * M * K), bo = b.offset_of(t * K * N), oo = o.offset_of(t * M * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = bias ? bias->get(j * bias->strides[0]) : 0.0;
        for (int64_t k = 0; k < K; ++k)
          s += a.get(ao + i * a.strides[r - 2] + k * a.strides[r - 1]) * b.get(bo + k * b.strides[r - 2] + j * b.strides[r - 1]);
        if (residual) s += residual->get(residual->offset_of((t * M + i) * N + j));
        o.set(oo + i * o.strides[r - 2] + j * o.strides[r - 1], s);
      }
  }
}

// a, b viewed with the output's batch dims (stride 0 where broadcast)
View batch_view(const View& v, const View& o) {
  OutSpec s = spec_of(o);
  s.shape[s.rank - 2] = v.size(-2);
  s.shape[s.rank - 1] = v.size(-1);
  return broadcast_view(v, s);
}

void k_matmul(OpCall& c) { mm(batch_view(c.in[0], c.out[0]), batch_view(c.in[1], c.out[0]), nullptr, c.out[0]); }

void k_linear(OpCall& c) {
  const View &x = c.in[0], &w = c.in[1];
  // x as [rows, K] is not always expressible as one view; run per row block through the batch form
  View wt = w;  // [K, N] view of w [N, K]
  std::swap(wt.shape[0], wt.shape[1]);
  std::swap(wt.strides[0], wt.strides[1]);
  View xs = x, os = c.out[0];
  if (x.rank == 1) {  // treat as one row
    xs.rank = os.rank = 2;
    xs.shape[1] = x.shape[0]; xs.strides[1] = x.strides[0]; xs.shape[0] = 1; xs.strides[0] = 0;
    os.shape[1] = c.out[0].shape[0]; os.strides[1] = c.out[0].strides[0]; os.shape[0] = 1; os.strides[0] = 0;
  }
  const LinearTail tail = linear_tail(c, 2, 0);
  mm(xs, batch_view(wt, os), tail.bias, os, tail.residual);
}

TF_REGISTER_KERNEL(ref, matmul, k_matmul);
TF_REGISTER_KERNEL(ref, linear, k_linear);

}  // namespace
}  // namespace tf::ref
