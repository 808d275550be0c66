// CUDA layer_norm forward and backward. Forward: one block per row, the row staged in shared memory,
// two passes (mean, then the centred sum of squares). Backward: dx per row; dweight/dbias as column
// sums over row chunks written to scratch and added in a fixed order (deterministic, no atomics).
#include "common.cuh"

namespace tf::cuda {
namespace {

__device__ float param(const DView& v, bool present, int64_t j, float absent) {
  return present ? v.load(j * v.strides[0]) : absent;
}

__global__ void layer_norm_kernel(DView x, DView w, DView b, bool has_w, bool has_b, DView y, DView mean, DView rstd,
                                  int64_t rows, int64_t D, float eps, bool staged) {
  extern __shared__ float row[];
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * D;
    const BlockRow X = stage_row(x, base, D, row, staged);
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s += X(j);
    const float m = block_sum(s) / static_cast<float>(D);
    float q = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const float d = X(j) - m;
      q += d * d;
    }
    const float rs = rsqrtf(block_sum(q) / static_cast<float>(D) + eps);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x)
      y.store(y.offset_of(base + j), (X(j) - m) * rs * param(w, has_w, j, 1.0f) + param(b, has_b, j, 0.0f));
    if (threadIdx.x == 0) {
      mean.store(r * mean.strides[0], m);
      rstd.store(r * rstd.strides[0], rs);
    }
    __syncthreads();
  }
}

// dx = rstd * (g*w - mean(g*w) - xhat * mean(g*w*xhat))
__global__ void layer_norm_dx_kernel(DView g, DView x, DView mean, DView rstd, DView w, bool has_w, DView dx, int64_t rows, int64_t D) {
  for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
    const int64_t base = r * D;
    const float m = mean.load(r * mean.strides[0]), rs = rstd.load(r * rstd.strides[0]);
    float a = 0.0f, bsum = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const float gw = g.load(g.offset_of(base + j)) * param(w, has_w, j, 1.0f);
      a += gw;
      bsum += gw * (x.load(x.offset_of(base + j)) - m) * rs;
    }
    a = block_sum(a) / static_cast<float>(D);
    bsum = block_sum(bsum) / static_cast<float>(D);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
      const float gw = g.load(g.offset_of(base + j)) * param(w, has_w, j, 1.0f);
      const float xhat = (x.load(x.offset_of(base + j)) - m) * rs;
      dx.store(dx.offset_of(base + j), rs * (gw - a - xhat * bsum));
    }
  }
}

// Column sums of g*xhat and g over one chunk of rows: block (32 columns) x (8 row lanes).
__global__ void layer_norm_dwdb_partial(DView g, DView x, DView mean, DView rstd, float* pw, float* pb, int64_t rows, int64_t D,
                                        int64_t rows_per_chunk) {
  __shared__ float sw[8][33], sb[8][33];
  const int64_t j = blockIdx.x * 32 + threadIdx.x, chunk = blockIdx.y;
  const int64_t r0 = chunk * rows_per_chunk, r1 = min(rows, r0 + rows_per_chunk);
  float aw = 0.0f, ab = 0.0f;
  if (j < D)
    for (int64_t r = r0 + threadIdx.y; r < r1; r += 8) {
      const float gv = g.load(g.offset_of(r * D + j));
      aw += gv * (x.load(x.offset_of(r * D + j)) - mean.load(r * mean.strides[0])) * rstd.load(r * rstd.strides[0]);
      ab += gv;
    }
  sw[threadIdx.y][threadIdx.x] = aw;
  sb[threadIdx.y][threadIdx.x] = ab;
  __syncthreads();
  if (threadIdx.y == 0 && j < D) {
    for (int k = 1; k < 8; ++k) {
      aw += sw[k][threadIdx.x];
      ab += sb[k][threadIdx.x];
    }
    pw[chunk * D + j] = aw;
    pb[chunk * D + j] = ab;
  }
}
__global__ void layer_norm_dwdb_final(const float* pw, const float* pb, DView dw, DView db, int64_t chunks, int64_t D) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < D; j += int64_t(gridDim.x) * blockDim.x) {
    float aw = 0.0f, ab = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) {
      aw += pw[k * D + j];
      ab += pb[k * D + j];
    }
    dw.store(j * dw.strides[0], aw);
    db.store(j * db.strides[0], ab);
  }
}

int threads_for(int64_t D) { return block_threads((D + 3) / 4, 512); }  // about 4 columns per thread

void k_layer_norm(OpCall& c) {
  const View& x = c.in[0];
  const int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  if (rows == 0) return;
  const bool staged = D <= kStagedRowMax;
  const DView w = dview(c.in.size() > 1 ? c.in[1] : x), b = dview(c.in.size() > 2 ? c.in[2] : x);
  layer_norm_kernel<<<static_cast<unsigned>(std::min<int64_t>(rows, 65535)), threads_for(D), staged ? D * sizeof(float) : 0, stream()>>>(
      dview(x), w, b, c.in.size() > 1, c.in.size() > 2, dview(c.out[0]), dview(c.out[1]), dview(c.out[2]), rows, D,
      static_cast<float>(c.attrs[0]), staged);
  TF_CUDA_LAUNCHED();
}

void k_layer_norm_backward(OpCall& c) {
  const View &g = c.in[0], &x = c.in[1];
  const int64_t D = x.size(-1), rows = D ? x.numel() / D : 0;
  const DView w = dview(c.in.size() > 4 ? c.in[4] : x);
  if (rows > 0) {
    layer_norm_dx_kernel<<<static_cast<unsigned>(std::min<int64_t>(rows, 65535)), threads_for(D), 0, stream()>>>(
        dview(g), dview(x), dview(c.in[2]), dview(c.in[3]), w, c.in.size() > 4, dview(c.out[0]), rows, D);
    TF_CUDA_LAUNCHED();
  }
  if (D == 0) return;
  const int64_t per = 64, chunks = std::max<int64_t>(1, (rows + per - 1) / per);
  Scratch pw(chunks * D * sizeof(float)), pb(chunks * D * sizeof(float));
  dim3 grid(static_cast<unsigned>((D + 31) / 32), static_cast<unsigned>(chunks)), block(32, 8);
  layer_norm_dwdb_partial<<<grid, block, 0, stream()>>>(dview(g), dview(x), dview(c.in[2]), dview(c.in[3]), pw.as<float>(), pb.as<float>(),
                                                         rows, D, per);
  TF_CUDA_LAUNCHED();
  layer_norm_dwdb_final<<<grid_for(D), kThreads, 0, stream()>>>(pw.as<float>(), pb.as<float>(), dview(c.out[1]), dview(c.out[2]), chunks, D);
  TF_CUDA_LAUNCHED();
}

TF_REGISTER_KERNEL(cuda, layer_norm, k_layer_norm);
TF_REGISTER_KERNEL(cuda, layer_norm_backward, k_layer_norm_backward);

}  // namespace
}  // namespace tf::cuda
