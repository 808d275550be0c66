// CUDA flash attention, forward and backward, in float32 arithmetic for every storage dtype.
// Forward: one block per (32 queries, batch*head); K/V tiles of 32 keys pass through shared memory,
// the softmax is online (running max and sum), the S x S matrix never exists, and the log-sum-exp
// is saved. Backward recomputes P from the saved lse: one kernel per key tile accumulates dK and dV
// over the queries, another per query tile accumulates dQ over the keys (no atomics, deterministic).
// Head dims up to 256, float32 arithmetic on CUDA cores. bf16/fp16 forwards with head dims 32, 64
// and 128 take the tensor-core kernel of attention_tc.cu instead.
#include "attention.cuh"

namespace tf::cuda {
namespace {

constexpr int T = 32;        // rows per tile (queries or keys)
constexpr int kWarps = 4;    // 128 threads
constexpr int kMaxHead = 256;

// rows [s0, s0 + T) of t (b, h) into dst [T][pitch] as float; rows past S are zeros
__device__ void load_rows(float* dst, int pitch, const DView& t, int64_t b, int64_t h, int64_t s0, int64_t S, int64_t width) {
  for (int64_t e = threadIdx.x; e < T * width; e += blockDim.x) {
    const int64_t r = e / width, d = e % width;
    dst[r * pitch + d] = s0 + r < S ? t.load(at4(t, b, h, s0 + r, d)) : 0.0f;
  }
}
// src [T][pitch] into rows [s0, s0 + T) of t (b, h), rows past S left alone
__device__ void store_rows(const DView& t, int64_t b, int64_t h, int64_t s0, int64_t S, int64_t width, const float* src, int pitch) {
  for (int64_t e = threadIdx.x; e < T * width; e += blockDim.x) {
    const int64_t r = e / width, d = e % width;
    if (s0 + r < S) t.store(at4(t, b, h, s0 + r, d), src[r * pitch + d]);
  }
}
// dst[x][d] += scale * sum_y M[x][y] * src[y][d] for d < width, with M = S, or S^T when transposed
// (S is a [T][T + 1] tile)
__device__ void accumulate(float* dst, int dpitch, int64_t width, const float* S, bool transposed, const float* src, int spitch,
                           float scale) {
  for (int64_t e = threadIdx.x; e < T * width; e += blockDim.x) {
    const int64_t x = e / width, d = e % width;
    float acc = 0.0f;
    for (int y = 0; y < T; ++y) acc = fmaf(transposed ? S[y * (T + 1) + x] : S[x * (T + 1) + y], src[y * spitch + d], acc);
    dst[x * dpitch + d] += acc * scale;
  }
}
// S[r][c] = scale * x_r . y_c for visible pairs, -inf elsewhere (x rows are queries)
__device__ void scores(const Attn& a, float* S, const float* X, const float* Y, int pitch, int64_t width, int64_t b, int64_t i0, int64_t j0,
                       bool scaled_and_masked) {
  for (int e = threadIdx.x; e < T * T; e += blockDim.x) {
    const int r = e / T, c = e % T;
    float s = 0.0f;
    for (int64_t d = 0; d < width; ++d) s = fmaf(X[r * pitch + d], Y[c * pitch + d], s);
    S[r * (T + 1) + c] = !scaled_and_masked ? s : (visible(a, b, i0 + r, j0 + c) ? s * a.scale : -INFINITY);
  }
}

struct Smem {  // carve-up of the dynamic shared memory
  float* p;
  __device__ float* take(int64_t n) {
    float* r = p;
    p += n;
    return r;
  }
};

__global__ void attention_forward(Attn a) {
  extern __shared__ float smem[];
  const int64_t b = blockIdx.y / a.H, h = blockIdx.y % a.H, i0 = blockIdx.x * int64_t(T);
  const int pd = static_cast<int>(a.D) + 1, pv = static_cast<int>(a.Dv) + 1;
  Smem sm{smem};
  float *Q = sm.take(T * pd), *K = sm.take(T * pd), *V = sm.take(T * pv), *O = sm.take(T * pv), *S = sm.take(T * (T + 1));
  float *m = sm.take(T), *l = sm.take(T), *alpha = sm.take(T);
  load_rows(Q, pd, a.q, b, h, i0, a.Sq, a.D);
  for (int e = threadIdx.x; e < T * pv; e += blockDim.x) O[e] = 0.0f;
  if (threadIdx.x < T) { m[threadIdx.x] = -INFINITY; l[threadIdx.x] = 0.0f; }
  const int64_t j_end = a.causal ? min(a.Sk, i0 + T) : a.Sk;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int64_t j0 = 0; j0 < j_end; j0 += T) {
    __syncthreads();
    load_rows(K, pd, a.k, b, h, j0, a.Sk, a.D);
    load_rows(V, pv, a.v, b, h, j0, a.Sk, a.Dv);
    __syncthreads();
    scores(a, S, Q, K, pd, a.D, b, i0, j0, true);
    __syncthreads();
    for (int r = warp; r < T; r += kWarps) {  // one warp per row, one lane per key
      const float s = S[r * (T + 1) + lane];
      const float mnew = fmaxf(m[r], warp_max(s));
      const float p = mnew == -INFINITY ? 0.0f : __expf(s - mnew);
      const float sum = warp_sum(p);
      S[r * (T + 1) + lane] = p;
      if (lane == 0) {
        const float al = mnew == -INFINITY ? 1.0f : __expf(m[r] - mnew);
        alpha[r] = al;
        l[r] = l[r] * al + sum;
        m[r] = mnew;
      }
    }
    __syncthreads();
    for (int64_t e = threadIdx.x; e < T * a.Dv; e += blockDim.x) {
      const int64_t r = e / a.Dv, d = e % a.Dv;
      float acc = O[r * pv + d] * alpha[r];
      for (int c = 0; c < T; ++c) acc = fmaf(S[r * (T + 1) + c], V[c * pv + d], acc);
      O[r * pv + d] = acc;
    }
  }
  __syncthreads();
  for (int64_t e = threadIdx.x; e < T * a.Dv; e += blockDim.x) {
    const int64_t r = e / a.Dv, d = e % a.Dv;
    if (i0 + r < a.Sq) a.o.store(at4(a.o, b, h, i0 + r, d), l[r] > 0.0f ? O[r * pv + d] / l[r] : 0.0f);
  }
  if (threadIdx.x < T && i0 + threadIdx.x < a.Sq) {
    const int r = threadIdx.x;
    a.lse.store(b * a.lse.strides[0] + h * a.lse.strides[1] + (i0 + r) * a.lse.strides[2], l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY);
  }
}

// Di = sum_e dO[i, e] * O[i, e], one warp per row, into scratch [B*H*Sq]
__global__ void attention_delta(Attn a, float* delta, int64_t rows) {
  const int64_t warps = int64_t(gridDim.x) * (blockDim.x / 32);
  for (int64_t row = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32; row < rows; row += warps) {
    const int64_t i = row % a.Sq, bh = row / a.Sq, b = bh / a.H, h = bh % a.H;
    float s = 0.0f;
    for (int64_t e = threadIdx.x % 32; e < a.Dv; e += 32) s += a.go.load(at4(a.go, b, h, i, e)) * a.o.load(at4(a.o, b, h, i, e));
    s = warp_sum(s);
    if (threadIdx.x % 32 == 0) delta[row] = s;
  }
}

// P (probabilities from the saved lse) and dS = P * (dO V^T - D) for one (query tile, key tile)
__device__ void probs_and_ds(const Attn& a, float* P, float* dS, const float* Q, const float* K, const float* dO, const float* V, int pd,
                             int pv, const float* lse, const float* delta, int64_t b, int64_t i0, int64_t j0) {
  scores(a, P, Q, K, pd, a.D, b, i0, j0, true);
  scores(a, dS, dO, V, pv, a.Dv, b, i0, j0, false);
  __syncthreads();
  for (int e = threadIdx.x; e < T * T; e += blockDim.x) {
    const int r = e / T, c = e % T;
    const float s = P[r * (T + 1) + c];
    const float p = (s == -INFINITY || lse[r] == -INFINITY) ? 0.0f : __expf(s - lse[r]);
    P[r * (T + 1) + c] = p;
    dS[r * (T + 1) + c] = p * (dS[r * (T + 1) + c] - delta[r]);
  }
  __syncthreads();
}
__device__ void load_stats(float* lse, float* delta, const Attn& a, const float* gdelta, int64_t b, int64_t h, int64_t i0) {
  if (threadIdx.x < T) {
    const int64_t i = i0 + threadIdx.x;
    lse[threadIdx.x] = i < a.Sq ? a.lse.load(b * a.lse.strides[0] + h * a.lse.strides[1] + i * a.lse.strides[2]) : -INFINITY;
    delta[threadIdx.x] = i < a.Sq ? gdelta[(b * a.H + h) * a.Sq + i] : 0.0f;
  }
}

// dV[j] = sum_i P[i, j] dO[i];  dK[j] = scale * sum_i dS[i, j] Q[i]
__global__ void attention_backward_kv(Attn a, const float* gdelta, DView dk, DView dv) {
  extern __shared__ float smem[];
  const int64_t b = blockIdx.y / a.H, h = blockIdx.y % a.H, j0 = blockIdx.x * int64_t(T);
  const int pd = static_cast<int>(a.D) + 1, pv = static_cast<int>(a.Dv) + 1;
  Smem sm{smem};
  float *K = sm.take(T * pd), *V = sm.take(T * pv), *dK = sm.take(T * pd), *dV = sm.take(T * pv), *Q = sm.take(T * pd),
        *dO = sm.take(T * pv), *P = sm.take(T * (T + 1)), *dS = sm.take(T * (T + 1)), *lse = sm.take(T), *delta = sm.take(T);
  load_rows(K, pd, a.k, b, h, j0, a.Sk, a.D);
  load_rows(V, pv, a.v, b, h, j0, a.Sk, a.Dv);
  for (int e = threadIdx.x; e < T * pd; e += blockDim.x) dK[e] = 0.0f;
  for (int e = threadIdx.x; e < T * pv; e += blockDim.x) dV[e] = 0.0f;
  const int64_t i_start = a.causal ? j0 / T * T : 0;  // causal: queries before j0 see none of these keys
  for (int64_t i0 = i_start; i0 < a.Sq; i0 += T) {
    __syncthreads();
    load_rows(Q, pd, a.q, b, h, i0, a.Sq, a.D);
    load_rows(dO, pv, a.go, b, h, i0, a.Sq, a.Dv);
    load_stats(lse, delta, a, gdelta, b, h, i0);
    __syncthreads();
    probs_and_ds(a, P, dS, Q, K, dO, V, pd, pv, lse, delta, b, i0, j0);
    accumulate(dV, pv, a.Dv, P, true, dO, pv, 1.0f);
    accumulate(dK, pd, a.D, dS, true, Q, pd, a.scale);
  }
  __syncthreads();
  store_rows(dk, b, h, j0, a.Sk, a.D, dK, pd);
  store_rows(dv, b, h, j0, a.Sk, a.Dv, dV, pv);
}

// dQ[i] = scale * sum_j dS[i, j] K[j]
__global__ void attention_backward_q(Attn a, const float* gdelta, DView dq) {
  extern __shared__ float smem[];
  const int64_t b = blockIdx.y / a.H, h = blockIdx.y % a.H, i0 = blockIdx.x * int64_t(T);
  const int pd = static_cast<int>(a.D) + 1, pv = static_cast<int>(a.Dv) + 1;
  Smem sm{smem};
  float *Q = sm.take(T * pd), *dO = sm.take(T * pv), *dQ = sm.take(T * pd), *K = sm.take(T * pd), *V = sm.take(T * pv),
        *P = sm.take(T * (T + 1)), *dS = sm.take(T * (T + 1)), *lse = sm.take(T), *delta = sm.take(T);
  load_rows(Q, pd, a.q, b, h, i0, a.Sq, a.D);
  load_rows(dO, pv, a.go, b, h, i0, a.Sq, a.Dv);
  load_stats(lse, delta, a, gdelta, b, h, i0);
  for (int e = threadIdx.x; e < T * pd; e += blockDim.x) dQ[e] = 0.0f;
  const int64_t j_end = a.causal ? min(a.Sk, i0 + T) : a.Sk;
  for (int64_t j0 = 0; j0 < j_end; j0 += T) {
    __syncthreads();
    load_rows(K, pd, a.k, b, h, j0, a.Sk, a.D);
    load_rows(V, pv, a.v, b, h, j0, a.Sk, a.Dv);
    __syncthreads();
    probs_and_ds(a, P, dS, Q, K, dO, V, pd, pv, lse, delta, b, i0, j0);
    accumulate(dQ, pd, a.D, dS, false, K, pd, a.scale);
  }
  __syncthreads();
  store_rows(dq, b, h, i0, a.Sq, a.D, dQ, pd);
}

Attn attn_of(const OpCall& c, size_t mask_index) {
  Attn a{};
  a.q = dview(c.in[0]);
  a.k = dview(c.in[1]);
  a.v = dview(c.in[2]);
  a.has_mask = c.in.size() > mask_index;
  a.mask = dview(a.has_mask ? c.in[mask_index] : c.in[0]);
  a.causal = c.attrs[1] != 0;
  a.scale = static_cast<float>(c.attrs[0]);
  a.H = c.in[0].shape[1];
  a.Sq = c.in[0].shape[2];
  a.Sk = c.in[1].shape[2];
  a.D = c.in[0].shape[3];
  a.Dv = c.in[2].shape[3];
  if (a.D > kMaxHead || a.Dv > kMaxHead)
    throw OpError(std::string(op_name(c.op)) + ": head dims " + std::to_string(a.D) + "/" + std::to_string(a.Dv) + " exceed " +
                  std::to_string(kMaxHead) + " on the cuda backend");
  if (c.in[0].shape[0] * a.H > 65535) throw OpError(std::string(op_name(c.op)) + ": batch * heads exceeds 65535 on the cuda backend");
  return a;
}

template <class K, class... Args>
void launch(K kernel, int64_t tiles, const Attn& a, int64_t B, size_t smem_floats, Args... args) {
  if (tiles == 0 || B * a.H == 0) return;
  const size_t bytes = smem_floats * sizeof(float);
  allow_dynamic_smem(reinterpret_cast<const void*>(kernel), bytes);
  kernel<<<dim3(static_cast<unsigned>(tiles), static_cast<unsigned>(B * a.H)), kWarps * 32, bytes, stream()>>>(a, args...);
  TF_CUDA_LAUNCHED();
}

void k_attention(OpCall& c) {
  Attn a = attn_of(c, 3);
  a.o = dview(c.out[0]);
  a.lse = dview(c.out[1]);
  if (attention_forward_tc(a, c.in[0].shape[0], c.in[0].dtype, c.in[1].dtype, c.in[2].dtype)) return;
  const int64_t pd = a.D + 1, pv = a.Dv + 1;
  launch(attention_forward, (a.Sq + T - 1) / T, a, c.in[0].shape[0], 2 * T * pd + 2 * T * pv + T * (T + 1) + 3 * T);
}

void k_attention_backward(OpCall& c) {
  Attn a = attn_of(c, 6);
  a.o = dview(c.in[3]);
  a.lse = dview(c.in[4]);
  a.go = dview(c.in[5]);
  const int64_t B = c.in[0].shape[0], rows = B * a.H * a.Sq, pd = a.D + 1, pv = a.Dv + 1;
  Scratch delta(static_cast<size_t>(rows) * sizeof(float));
  if (rows > 0) {
    attention_delta<<<grid_for(rows * 32), kThreads, 0, stream()>>>(a, delta.as<float>(), rows);
    TF_CUDA_LAUNCHED();
  }
  const size_t tiles2 = 2 * T * (T + 1) + 2 * T;
  launch(attention_backward_kv, (a.Sk + T - 1) / T, a, B, 3 * T * pd + 3 * T * pv + tiles2, static_cast<const float*>(delta.as<float>()),
         dview(c.out[1]), dview(c.out[2]));
  launch(attention_backward_q, (a.Sq + T - 1) / T, a, B, 3 * T * pd + 2 * T * pv + tiles2, static_cast<const float*>(delta.as<float>()),
         dview(c.out[0]));
}

TF_REGISTER_KERNEL(cuda, attention, k_attention);
TF_REGISTER_KERNEL(cuda, attention_backward, k_attention_backward);

}  // namespace
}  // namespace tf::cuda
