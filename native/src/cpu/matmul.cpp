// CPU matmul and linear on the blocked GEMM. Many small matrices (attention-sized batches) run one
// GEMM per thread; large ones run one after another, each split across the threads.
#include <optional>
#include <vector>
#include "tensorforge/convert.h"
#include "tensorforge/gemm.h"
#include "tensorforge/host_alloc.h"
#include "tensorforge/iter.h"
#include "tensorforge/parallel.h"
#include "tensorforge/staging.h"

namespace tf::cpu {
namespace {

View batch_view(const View& v, const OutSpec& o) {
  OutSpec s = o;
  s.shape[s.rank - 2] = v.size(-2);
  s.shape[s.rank - 1] = v.size(-1);
  return broadcast_view(v, s);
}

// Writes an M x N float32 block into the output view at element offset `base`, rounding to the
// output dtype; rows with unit column stride convert in one run; rows split across the threads
// when `parallel` (a 16-bit output of a large GEMM must not convert on one core).
void store_rows(const View& o, int64_t base, int64_t M, int64_t N, const float* src, bool parallel) {
  int r = o.rank;
  int64_t rs = o.strides[r - 2], cs = o.strides[r - 1];
  auto rows = [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      if (cs == 1) store_floats(src + i * N, N, o.at(base + i * rs), o.dtype);
      else for (int64_t j = 0; j < N; ++j) o.set(base + i * rs + j * cs, src[i * N + j]);
    }
  };
  if (parallel) parallel_for(M, N, rows);
  else rows(0, M);
}

// Whether the batch dims and the row dim of v run on as one dim of rows with the row stride.
bool rows_run_on(const View& v) {
  for (int d = v.rank - 3; d >= 0; --d)
    if (v.shape[d] != 1 && v.strides[d] != v.strides[d + 1] * v.shape[d + 1]) return false;
  return true;
}

// Whether v (broadcast to the batch) is the same matrix for every batch index.
bool shared_by_batch(const View& v) {
  for (int d = 0; d < v.rank - 2; ++d)
    if (v.shape[d] != 1 && v.strides[d] != 0) return false;
  return true;
}

// out[b] = a[b] b[b] (+ bias) (+ residual: float32, contiguous like o's elements) for every batch
// index; out may be any float dtype and layout.
void batched(const View& a, const View& b, const float* bias, const View& o, const float* residual = nullptr) {
  int r = o.rank;
  int64_t M = o.shape[r - 2], N = o.shape[r - 1], K = a.shape[r - 1];
  if (M * N == 0) return;
  int64_t batch = o.numel() / (M * N);
  // one B for the whole batch (a linear layer's input gradient, (B, S, out) x (out, in)): one GEMM
  // of batch x M rows, not batch GEMMs of M rows each split across the threads
  if (batch > 1 && shared_by_batch(b) && rows_run_on(a) && rows_run_on(o)) {
    M *= batch;
    batch = 1;
  }
  bool direct = o.dtype == DType::f32 && o.strides[r - 1] == 1;
  bool per_thread = batch >= 2 * max_threads() && M * N * K <= (int64_t(1) << 21);
  auto one = [&](int64_t t, bool parallel, host::FloatBuffer& tmp) {
    int64_t ao = a.offset_of(t * M * K), bo = b.offset_of(t * K * N), oo = o.offset_of(t * M * N);
    gemm::Args g;
    g.M = M; g.N = N; g.K = K;
    g.A = a.at(ao); g.a_dtype = a.dtype; g.a_sm = a.strides[r - 2]; g.a_sk = a.strides[r - 1];
    g.B = b.at(bo); g.b_dtype = b.dtype; g.b_sk = b.strides[r - 2]; g.b_sn = b.strides[r - 1];
    g.b_storage = b.storage_id; g.b_version = b.version;
    g.bias = bias;
    if (residual) {
      g.residual = residual + t * M * N;
      g.ldr = N;
    }
    g.parallel = parallel;
    if (direct) {
      g.C = o.ptr<float>() + oo;
      g.ldc = o.strides[r - 2];
      gemm::run(g);
      return;
    }
    if (tmp.size() < static_cast<size_t>(M * N)) tmp.resize(static_cast<size_t>(M * N));  // no zeroing: the GEMM writes it all
    g.C = tmp.data();
    g.ldc = N;
    gemm::run(g);
    store_rows(o, oo, M, N, tmp.data(), parallel);
  };
  if (per_thread) {
    parallel_for(batch, int64_t(1) << 20, [&](int64_t b0, int64_t b1) {
      host::FloatBuffer tmp;
      for (int64_t t = b0; t < b1; ++t) one(t, false, tmp);
    });
    return;
  }
  host::FloatBuffer tmp;
  for (int64_t t = 0; t < batch; ++t) one(t, true, tmp);
}

void k_matmul(OpCall& c) {
  OutSpec s = spec_of(c.out[0]);
  batched(batch_view(c.in[0], s), batch_view(c.in[1], s), nullptr, c.out[0]);
}

void k_linear(OpCall& c) {
  const View &x = c.in[0], &w = c.in[1];
  const LinearTail tail = linear_tail(c, 2, 0);
  std::optional<F32In> residual;  // read in place when contiguous float32
  if (tail.residual) residual.emplace(*tail.residual);
  const float* rp = residual ? residual->p : nullptr;
  std::vector<float> bias;
  const float* bp = nullptr;
  if (tail.bias) {
    const View& bv = *tail.bias;
    bias.resize(static_cast<size_t>(bv.shape[0]));
    for (int64_t j = 0; j < bv.shape[0]; ++j) bias[j] = bv.ptr<float>()[j * bv.strides[0]];
    bp = bias.data();
  }
  // rows of x: merge the leading dims into M when the view allows it, else loop over them
  View xs = x, os = c.out[0];
  Coalesced<2> lead;
  {
    View xl = x, ol = c.out[0];
    xl.rank = ol.rank = x.rank - 1;
    lead = coalesce<2>({&xl, &ol});
  }
  View wt = w;
  std::swap(wt.shape[0], wt.shape[1]);
  std::swap(wt.strides[0], wt.strides[1]);
  int64_t K = x.size(-1), N = w.shape[0];
  if (x.rank == 1 || lead.rank == 1) {
    int64_t M = x.rank == 1 ? 1 : lead.shape[0];
    xs.rank = os.rank = 2;
    xs.shape[0] = os.shape[0] = M;
    xs.strides[0] = x.rank == 1 ? 0 : lead.strides[0][0];
    os.strides[0] = x.rank == 1 ? 0 : lead.strides[1][0];
    xs.shape[1] = K; xs.strides[1] = x.strides[x.rank - 1];
    os.shape[1] = N; os.strides[1] = c.out[0].strides[c.out[0].rank - 1];
    OutSpec s = spec_of(os);
    batched(xs, batch_view(wt, s), bp, os, rp);
    return;
  }
  OutSpec s = spec_of(os);
  batched(x, batch_view(wt, s), bp, os, rp);
}

TF_REGISTER_KERNEL(cpu, matmul, k_matmul);
TF_REGISTER_KERNEL(cpu, linear, k_linear);

}  // namespace
}  // namespace tf::cpu
