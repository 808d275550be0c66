// CUDA embedding, gather, index_select and their scatter-add backward ops. Every output element is
// written by one thread that adds its contributions in index order, so results do not depend on
// scheduling (no float atomics). embedding_backward groups token positions by row on the host
// (the op's checks have already read the indices there) and sums each row's tokens in order.
#include <vector>
#include "common.cuh"
#include "tensorforge/coords.h"

namespace tf::cuda {
namespace {

__device__ void unravel(int64_t flat, const DView& v, int64_t* coord) {
  for (int d = v.rank - 1; d >= 0; --d) {
    coord[d] = flat % v.shape[d];
    flat /= v.shape[d];
  }
}
__device__ int64_t offset_at(const DView& v, const int64_t* coord) {
  int64_t o = 0;
  for (int d = 0; d < v.rank; ++d) o += coord[d] * v.strides[d];
  return o;
}
__device__ int64_t index_at(const DView& ix, int64_t off) { return reinterpret_cast<const int32_t*>(ix.data)[off]; }

#define TF_FOR_EACH(i, n) for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(gridDim.x) * blockDim.x)

// scaled: times the row's scale (an int8 table's, float32 [V])
__global__ void embedding_kernel(DView w, DView ix, DView scale, bool scaled, DView o, int64_t T, int64_t D) {
  TF_FOR_EACH(e, T * D) {
    const int64_t t = e / D, j = e % D;
    const int64_t row = index_at(ix, ix.offset_of(t));
    const float v = w.load(row * w.strides[0] + j * w.strides[1]);
    o.store(o.offset_of(e), scaled ? v * scale.load(scale.offset_of(row)) : v);
  }
}

// rows[u]: a row that occurs; tokens[starts[u] .. starts[u+1]): its token positions, ascending
__global__ void embedding_backward_kernel(DView g, const int32_t* rows, const int64_t* starts, const int64_t* tokens, DView o, int64_t U, int64_t D) {
  TF_FOR_EACH(e, U * D) {
    const int64_t u = e / D, j = e % D;
    float s = 0.0f;
    for (int64_t k = starts[u]; k < starts[u + 1]; ++k) s += g.load(g.offset_of(tokens[k] * D + j));
    o.store(rows[u] * o.strides[0] + j * o.strides[1], s);
  }
}

__global__ void zero_kernel(DView o, int64_t n) {
  TF_FOR_EACH(i, n) o.store(o.offset_of(i), 0.0f);
}

// gather: out[c] = a[c with dim = index[c]]
__global__ void gather_kernel(DView a, DView ix, DView o, int dim) {
  int64_t coord[kMaxRank];
  int64_t n = 1;
  for (int d = 0; d < ix.rank; ++d) n *= ix.shape[d];
  TF_FOR_EACH(i, n) {
    unravel(i, ix, coord);
    const int64_t ooff = offset_at(o, coord);
    coord[dim] = index_at(ix, offset_at(ix, coord));
    o.store(ooff, a.load(offset_at(a, coord)));
  }
}
// scatter_add: out[c] = sum over i along dim (other coords equal, inside the source) with
// index[c with dim = i] == c[dim] of src[c with dim = i]
__global__ void scatter_add_kernel(DView src, DView ix, DView o, int dim, int64_t n) {
  int64_t coord[kMaxRank];
  TF_FOR_EACH(e, n) {
    unravel(e, o, coord);
    const int64_t target = coord[dim];
    bool inside = true;
    for (int d = 0; d < o.rank; ++d) inside &= d == dim || coord[d] < src.shape[d];
    float s = 0.0f;
    if (inside)
      for (int64_t i = 0; i < src.shape[dim]; ++i) {
        coord[dim] = i;
        if (index_at(ix, offset_at(ix, coord)) == target) s += src.load(offset_at(src, coord));
      }
    coord[dim] = target;
    o.store(offset_at(o, coord), s);
  }
}
// index_select: out[c] = a[c with dim = index[c[dim]]]
__global__ void index_select_kernel(DView a, DView ix, DView o, int dim, int64_t n) {
  int64_t coord[kMaxRank];
  TF_FOR_EACH(e, n) {
    unravel(e, o, coord);
    const int64_t ooff = offset_at(o, coord);
    coord[dim] = index_at(ix, coord[dim] * ix.strides[0]);
    o.store(ooff, a.load(offset_at(a, coord)));
  }
}
// index_add: out[c] = sum over i with index[i] == c[dim] of src[c with dim = i]
__global__ void index_add_kernel(DView src, DView ix, DView o, int dim, int64_t n) {
  int64_t coord[kMaxRank];
  TF_FOR_EACH(e, n) {
    unravel(e, o, coord);
    const int64_t target = coord[dim];
    float s = 0.0f;
    for (int64_t i = 0; i < ix.shape[0]; ++i)
      if (index_at(ix, i * ix.strides[0]) == target) {
        coord[dim] = i;
        s += src.load(offset_at(src, coord));
      }
    coord[dim] = target;
    o.store(offset_at(o, coord), s);
  }
}

int dim_of(const OpCall& c, int rank) { return static_cast<int>(c.attrs[0] < 0 ? c.attrs[0] + rank : c.attrs[0]); }

void k_embedding(OpCall& c) {
  const int64_t T = c.in[1].numel(), D = c.in[0].shape[1];
  if (T * D == 0) return;
  const bool scaled = c.in.size() == 3;
  embedding_kernel<<<grid_for(T * D), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.in[1]), dview(c.in[scaled ? 2 : 0]), scaled, dview(c.out[0]), T, D);
  TF_CUDA_LAUNCHED();
}

void k_embedding_backward(OpCall& c) {
  const View& o = c.out[0];
  const int64_t V = o.shape[0], D = o.shape[1];
  if (V * D == 0) return;
  zero_kernel<<<grid_for(V * D), kThreads, 0, stream()>>>(dview(o), V * D);
  TF_CUDA_LAUNCHED();
  std::vector<char> staging;
  const View iv = host_view(c, 1, staging);
  std::vector<int32_t> ix(static_cast<size_t>(iv.numel()));
  for (size_t t = 0; t < ix.size(); ++t) ix[t] = index_at(iv, iv.offset_of(static_cast<int64_t>(t)));
  // counting sort of token positions by row (stable: ascending positions within a row)
  std::vector<int64_t> count(static_cast<size_t>(V) + 1, 0);
  for (int32_t r : ix) ++count[static_cast<size_t>(r) + 1];
  std::vector<int32_t> rows;
  std::vector<int64_t> starts{0};
  for (int64_t r = 0; r < V; ++r)
    if (count[r + 1]) {
      rows.push_back(static_cast<int32_t>(r));
      starts.push_back(starts.back() + count[r + 1]);
    }
  for (int64_t r = 0; r < V; ++r) count[r + 1] += count[r];
  std::vector<int64_t> tokens(ix.size());
  for (size_t t = 0; t < ix.size(); ++t) tokens[static_cast<size_t>(count[ix[t]]++)] = static_cast<int64_t>(t);
  const int64_t U = static_cast<int64_t>(rows.size());
  if (U == 0) return;
  Scratch drows(rows.size() * sizeof(int32_t)), dstarts(starts.size() * sizeof(int64_t)), dtokens(tokens.size() * sizeof(int64_t));
  copy_to_device(drows.as<int32_t>(), rows.data(), rows.size() * sizeof(int32_t));
  copy_to_device(dstarts.as<int64_t>(), starts.data(), starts.size() * sizeof(int64_t));
  copy_to_device(dtokens.as<int64_t>(), tokens.data(), tokens.size() * sizeof(int64_t));
  embedding_backward_kernel<<<grid_for(U * D), kThreads, 0, stream()>>>(dview(c.in[0]), drows.as<int32_t>(), dstarts.as<int64_t>(),
                                                                         dtokens.as<int64_t>(), dview(o), U, D);
  TF_CUDA_LAUNCHED();
}

void k_gather(OpCall& c) {
  if (c.in[1].numel() == 0) return;
  gather_kernel<<<grid_for(c.in[1].numel()), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.in[1]), dview(c.out[0]), dim_of(c, c.in[0].rank));
  TF_CUDA_LAUNCHED();
}
void k_scatter_add(OpCall& c) {
  const int64_t n = c.out[0].numel();
  if (n == 0) return;
  scatter_add_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.in[1]), dview(c.out[0]), dim_of(c, c.in[0].rank), n);
  TF_CUDA_LAUNCHED();
}
void k_index_select(OpCall& c) {
  const int64_t n = c.out[0].numel();
  if (n == 0) return;
  index_select_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.in[1]), dview(c.out[0]), dim_of(c, c.in[0].rank), n);
  TF_CUDA_LAUNCHED();
}
void k_index_add(OpCall& c) {
  const int64_t n = c.out[0].numel();
  if (n == 0) return;
  index_add_kernel<<<grid_for(n), kThreads, 0, stream()>>>(dview(c.in[0]), dview(c.in[1]), dview(c.out[0]), dim_of(c, c.in[0].rank), n);
  TF_CUDA_LAUNCHED();
}

TF_REGISTER_KERNEL(cuda, embedding, k_embedding);
TF_REGISTER_KERNEL(cuda, embedding_backward, k_embedding_backward);
TF_REGISTER_KERNEL(cuda, gather, k_gather);
TF_REGISTER_KERNEL(cuda, scatter_add, k_scatter_add);
TF_REGISTER_KERNEL(cuda, index_select, k_index_select);
TF_REGISTER_KERNEL(cuda, index_add, k_index_add);

}  // namespace
}  // namespace tf::cuda
