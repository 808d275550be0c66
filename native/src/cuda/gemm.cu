// The CUDA GEMM (see gemm.cuh): a tensor-core kernel for bf16/fp16 and a SIMT kernel for the rest.
#include <cstdint>
#include "gemm.cuh"

namespace tf::cuda {
namespace {

// ---- SIMT: 64x64 tiles, BK 16, 256 threads with 4x4 outputs each, any dtype and strides ----
constexpr int SB = 64, SK = 16;

__global__ void gemm_simt(GemmArgs g) {
  __shared__ float As[SK][SB + 1], Bs[SK][SB + 1];
  const int64_t z = blockIdx.z;
  const DView a{const_cast<char*>(g.a.data), g.a.dtype}, b{const_cast<char*>(g.bt.data), g.bt.dtype};
  const int64_t ao = g.a.batch.offset_of(z), bo = g.bt.batch.offset_of(z);
  const int64_t m0 = blockIdx.y * int64_t(SB), n0 = blockIdx.x * int64_t(SB);
  const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
  float acc[4][4] = {};
  for (int64_t k0 = 0; k0 < g.K; k0 += SK) {
    for (int e = threadIdx.x; e < SB * SK; e += 256) {
      const int r = e / SK, kk = e % SK;
      const int64_t m = m0 + r, n = n0 + r, k = k0 + kk;
      As[kk][r] = (m < g.M && k < g.K) ? a.load(ao + m * g.a.s_row + k * g.a.s_col) : 0.0f;
      Bs[kk][r] = (n < g.N && k < g.K) ? b.load(bo + n * g.bt.s_row + k * g.bt.s_col) : 0.0f;
    }
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < SK; ++kk) {
      float av[4], bv[4];
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        av[i] = As[kk][ty + 16 * i];
        bv[i] = Bs[kk][tx + 16 * i];
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    __syncthreads();
  }
  const DView c{g.c, g.c_dtype};
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      const int64_t m = m0 + ty + 16 * i, n = n0 + tx + 16 * j;
      if (m < g.M && n < g.N)
        c.store((z * g.M + m) * g.N + n, acc[i][j] + (g.has_bias ? g.bias.load(n * g.bias.strides[0]) : 0.0f));
    }
}

// ---- tensor cores: 128x128x32 tiles, 8 warps (2 x 4) of 64x32, 3-stage cp.async pipeline ----
constexpr int TM = 128, TN = 128, TK = 32, TPAD = 8, TROW = TK + TPAD, STAGES = 3;
constexpr int kStageElems = (TM + TN) * TROW;
constexpr size_t kTcSmem = size_t(STAGES) * kStageElems * 2;

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

template <bool kBf16>
__device__ __forceinline__ void mma16816(float* c, const uint32_t* a, const uint32_t* b) {
  if constexpr (kBf16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

// rows [r0, r0 + 128) x k [k0, k0 + 32) of an operand into smem (row-major, TROW pitch); rows or k
// past the end are zero-filled (K is a multiple of 8, so a 16-byte chunk never straddles it)
__device__ __forceinline__ void load_tile(uint16_t* s, const uint16_t* base, int64_t s_row, int64_t rows, int64_t K, int64_t r0, int64_t k0) {
  for (int e = threadIdx.x; e < 128 * (TK / 8); e += 256) {
    const int r = e / (TK / 8), c = (e % (TK / 8)) * 8;
    const int64_t gr = r0 + r, gk = k0 + c;
    const bool valid = gr < rows && gk < K;
    cp_async16(s + r * TROW + c, valid ? base + gr * s_row + gk : base, valid);
  }
}

template <bool kBf16>
__global__ void __launch_bounds__(256) gemm_tc(GemmArgs g) {
  extern __shared__ __align__(16) uint16_t smem[];
  const int64_t z = blockIdx.z;
  const uint16_t* A = reinterpret_cast<const uint16_t*>(g.a.data) + g.a.batch.offset_of(z);
  const uint16_t* B = reinterpret_cast<const uint16_t*>(g.bt.data) + g.bt.batch.offset_of(z);
  const int64_t m0 = blockIdx.y * int64_t(TM), n0 = blockIdx.x * int64_t(TN);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
  const int wm = warp / 4, wn = warp % 4;  // warp tile: rows wm*64.., cols wn*32..
  float acc[4][4][4] = {};
  const int64_t KT = (g.K + TK - 1) / TK;
  auto stage_a = [&](int s) { return smem + s * kStageElems; };
  auto stage_b = [&](int s) { return smem + s * kStageElems + TM * TROW; };
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) {
      load_tile(stage_a(s), A, g.a.s_row, g.M, g.K, m0, s * TK);
      load_tile(stage_b(s), B, g.bt.s_row, g.N, g.K, n0, s * TK);
    }
    cp_commit();
  }
  for (int64_t kt = 0; kt < KT; ++kt) {
    cp_wait<STAGES - 2>();
    __syncthreads();
    const int64_t next = kt + STAGES - 1;
    if (next < KT) {
      load_tile(stage_a(next % STAGES), A, g.a.s_row, g.M, g.K, m0, next * TK);
      load_tile(stage_b(next % STAGES), B, g.bt.s_row, g.N, g.K, n0, next * TK);
    }
    cp_commit();
    const uint16_t* As = stage_a(kt % STAGES) + (wm * 64) * TROW;
    const uint16_t* Bs = stage_b(kt % STAGES) + (wn * 32) * TROW;
#pragma unroll
    for (int kk = 0; kk < TK; kk += 16) {
      uint32_t af[4][4], bf[4][2];
#pragma unroll
      for (int i = 0; i < 4; ++i) {  // A fragment (row-major 16x16): rows gid, gid+8; cols 2*tig, +8
        const uint16_t* p = As + (i * 16 + gid) * TROW + kk + 2 * tig;
        af[i][0] = *reinterpret_cast<const uint32_t*>(p);
        af[i][1] = *reinterpret_cast<const uint32_t*>(p + 8 * TROW);
        af[i][2] = *reinterpret_cast<const uint32_t*>(p + 8);
        af[i][3] = *reinterpret_cast<const uint32_t*>(p + 8 * TROW + 8);
      }
#pragma unroll
      for (int j = 0; j < 4; ++j) {  // B fragment (col-major 16x8): col gid; k 2*tig, +8
        const uint16_t* p = Bs + (j * 8 + gid) * TROW + kk + 2 * tig;
        bf[j][0] = *reinterpret_cast<const uint32_t*>(p);
        bf[j][1] = *reinterpret_cast<const uint32_t*>(p + 8);
      }
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) mma16816<kBf16>(acc[i][j], af[i], bf[j]);
    }
  }
  cp_wait<0>();
  const DView c{g.c, g.c_dtype};
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int h = 0; h < 4; ++h) {  // accumulator: rows gid (h < 2), gid + 8; cols 2*tig + (h & 1)
        const int64_t m = m0 + wm * 64 + i * 16 + gid + (h >= 2 ? 8 : 0);
        const int64_t n = n0 + wn * 32 + j * 8 + 2 * tig + (h & 1);
        if (m < g.M && n < g.N)
          c.store((z * g.M + m) * g.N + n, acc[i][j][h] + (g.has_bias ? g.bias.load(n * g.bias.strides[0]) : 0.0f));
      }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }
bool batch_strides_ok(const DView& b) {
  for (int d = 0; d < b.rank; ++d)
    if (b.strides[d] % 8 != 0) return false;
  return true;
}
bool half_with_k8(const GemmArgs& g) {
  const bool half = g.a.dtype == static_cast<int>(DType::bf16) || g.a.dtype == static_cast<int>(DType::f16);
  return half && g.bt.dtype == g.a.dtype && g.K % 8 == 0;
}
bool unit_k_rows(const Operand& o) { return o.s_col == 1 && o.s_row % 8 == 0; }
bool tensor_core_ok(const GemmArgs& g) {
  if (!half_with_k8(g)) return false;
  for (const Operand* o : {&g.a, &g.bt})
    if (!unit_k_rows(*o) || !aligned16(o->data) || !batch_strides_ok(o->batch)) return false;
  return true;
}

__global__ void materialize_kernel(Operand src, int64_t rows, int64_t cols, int64_t batch, char* out) {
  const DView s{const_cast<char*>(src.data), src.dtype}, o{out, src.dtype};
  const int64_t n = rows * cols * batch;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t z = e / (rows * cols), r = (e / cols) % rows, c = e % cols;
    o.store(e, s.load(src.batch.offset_of(z) + r * src.s_row + c * src.s_col));
  }
}

}  // namespace

Operand materialize(const Operand& op, int64_t rows, int64_t cols, int64_t batch, Scratch& into) {
  const int64_t n = rows * cols * batch;
  into.resize(static_cast<size_t>(n) * dtype_size(static_cast<DType>(op.dtype)));
  if (n > 0) {
    materialize_kernel<<<grid_for(n), kThreads, 0, stream()>>>(op, rows, cols, batch, into.as<char>());
    TF_CUDA_LAUNCHED();
  }
  Operand r{into.as<char>(), op.dtype, cols, 1, {}};
  r.batch.rank = 1;
  r.batch.contig = false;
  r.batch.shape[0] = batch;
  r.batch.strides[0] = rows * cols;
  return r;
}

void gemm(const GemmArgs& args) {
  if (args.M == 0 || args.N == 0 || args.batch == 0) return;
  if (args.batch > 65535) throw Error("gemm: more than 65535 batch entries");
  GemmArgs g = args;
  Scratch sa, sb;
  if (half_with_k8(g)) {  // an operand without unit K stride is copied once so the tensor cores can take it
    if (!unit_k_rows(g.a)) g.a = materialize(g.a, g.M, g.K, g.batch, sa);
    if (!unit_k_rows(g.bt)) g.bt = materialize(g.bt, g.N, g.K, g.batch, sb);
  }
  if (tensor_core_ok(g)) {
    dim3 grid(static_cast<unsigned>((g.N + TN - 1) / TN), static_cast<unsigned>((g.M + TM - 1) / TM), static_cast<unsigned>(g.batch));
    auto kernel = g.a.dtype == static_cast<int>(DType::bf16) ? gemm_tc<true> : gemm_tc<false>;
    allow_dynamic_smem(reinterpret_cast<const void*>(kernel), kTcSmem);
    kernel<<<grid, 256, kTcSmem, stream()>>>(g);
  } else {
    dim3 grid(static_cast<unsigned>((g.N + SB - 1) / SB), static_cast<unsigned>((g.M + SB - 1) / SB), static_cast<unsigned>(g.batch));
    gemm_simt<<<grid, 256, 0, stream()>>>(g);
  }
  TF_CUDA_LAUNCHED();
}

}  // namespace tf::cuda
