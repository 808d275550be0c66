// The CUDA GEMM (see gemm.cuh): a tensor-core kernel for bf16/fp16 (and float32 as TF32 when
// allowed) and a SIMT kernel for the rest.
#include <atomic>
#include <cstdint>
#include <optional>
#include <type_traits>
#include "gemm.cuh"
#include "mma.cuh"

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

// ---- tensor cores: 128x128 tiles, 8 warps (2 x 4) of 64x32, 3-stage cp.async pipeline ----
// bf16/fp16: 32 k per stage, mma m16n8k16; float32 as TF32 (opt-in): 16 k per stage, m16n8k8 on
// values rounded to TF32. A smem row is 64 bytes of k plus 16 bytes of padding either way.
template <Tc kind>
struct TcShape {
  using Elem = std::conditional_t<kind == Tc::tf32, float, uint16_t>;
  static constexpr int kChunk = 16 / sizeof(Elem);  // elements per 16-byte cp.async
  static constexpr int kTK = 64 / sizeof(Elem);     // k per stage
  static constexpr int kRow = kTK + kChunk;         // smem row pitch in elements (80 bytes)
  static constexpr int kMmaK = kind == Tc::tf32 ? 8 : 16;
};
constexpr int TM = 128, TN = 128, STAGES = 3;
constexpr int kStageBytes = (TM + TN) * 80;
constexpr size_t kTcSmem = size_t(STAGES) * kStageBytes;

__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const unsigned s = static_cast<unsigned>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
}
__device__ __forceinline__ void cp_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_wait() { asm volatile("cp.async.wait_group %0;\n" ::"n"(N)); }

// Fragments of one mma step from smem rows (row-major A 16 x k, B as Bt: 8 rows of k), at k offset
// kk: A rows gid, gid + 8; B row (column of B) gid; per the PTX fragment layouts of m16n8k16
// (two 16-bit values per register: k 2*tig, +1 and +8) and m16n8k8 tf32 (k tig and tig + 4).
template <Tc kind>
__device__ __forceinline__ void load_a(uint32_t* f, const typename TcShape<kind>::Elem* p, int gid, int tig) {
  constexpr int R = TcShape<kind>::kRow;
  if constexpr (kind == Tc::tf32) {
    p += gid * R + tig;
    f[0] = to_tf32(p[0]), f[1] = to_tf32(p[8 * R]), f[2] = to_tf32(p[4]), f[3] = to_tf32(p[8 * R + 4]);
  } else {
    p += gid * R + 2 * tig;
    f[0] = *reinterpret_cast<const uint32_t*>(p), f[1] = *reinterpret_cast<const uint32_t*>(p + 8 * R);
    f[2] = *reinterpret_cast<const uint32_t*>(p + 8), f[3] = *reinterpret_cast<const uint32_t*>(p + 8 * R + 8);
  }
}
template <Tc kind>
__device__ __forceinline__ void load_b(uint32_t* f, const typename TcShape<kind>::Elem* p, int gid, int tig) {
  constexpr int R = TcShape<kind>::kRow;
  if constexpr (kind == Tc::tf32) {
    p += gid * R + tig;
    f[0] = to_tf32(p[0]), f[1] = to_tf32(p[4]);
  } else {
    p += gid * R + 2 * tig;
    f[0] = *reinterpret_cast<const uint32_t*>(p), f[1] = *reinterpret_cast<const uint32_t*>(p + 8);
  }
}

// rows [r0, r0 + 128) x one stage of k from k0 into smem; rows or k past the end are zero-filled
// (K is a multiple of the 16-byte chunk, so a chunk never straddles it)
template <Tc kind>
__device__ __forceinline__ void load_tile(typename TcShape<kind>::Elem* s, const typename TcShape<kind>::Elem* base, int64_t s_row,
                                          int64_t rows, int64_t K, int64_t r0, int64_t k0) {
  using S = TcShape<kind>;
  constexpr int per_row = S::kTK / S::kChunk;
  for (int e = threadIdx.x; e < 128 * per_row; e += 256) {
    const int r = e / per_row, c = (e % per_row) * S::kChunk;
    const int64_t gr = r0 + r, gk = k0 + c;
    const bool valid = gr < rows && gk < K;
    cp_async16(s + r * S::kRow + c, valid ? base + gr * s_row + gk : base, valid);
  }
}

template <Tc kind>
__global__ void __launch_bounds__(256) gemm_tc(GemmArgs g) {
  using S = TcShape<kind>;
  using E = typename S::Elem;
  extern __shared__ __align__(16) char smem[];
  const int64_t z = blockIdx.z;
  const E* A = reinterpret_cast<const E*>(g.a.data) + g.a.batch.offset_of(z);
  const E* B = reinterpret_cast<const E*>(g.bt.data) + g.bt.batch.offset_of(z);
  const int64_t m0 = blockIdx.y * int64_t(TM), n0 = blockIdx.x * int64_t(TN);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
  const int wm = warp / 4, wn = warp % 4;  // warp tile: rows wm*64.., cols wn*32..
  float acc[4][4][4] = {};
  const int64_t KT = (g.K + S::kTK - 1) / S::kTK;
  auto stage_a = [&](int s) { return reinterpret_cast<E*>(smem + s * kStageBytes); };
  auto stage_b = [&](int s) { return reinterpret_cast<E*>(smem + s * kStageBytes) + TM * S::kRow; };
  for (int s = 0; s < STAGES - 1; ++s) {
    if (s < KT) {
      load_tile<kind>(stage_a(s), A, g.a.s_row, g.M, g.K, m0, s * S::kTK);
      load_tile<kind>(stage_b(s), B, g.bt.s_row, g.N, g.K, n0, s * S::kTK);
    }
    cp_commit();
  }
  for (int64_t kt = 0; kt < KT; ++kt) {
    cp_wait<STAGES - 2>();
    __syncthreads();
    const int64_t next = kt + STAGES - 1;
    if (next < KT) {
      load_tile<kind>(stage_a(next % STAGES), A, g.a.s_row, g.M, g.K, m0, next * S::kTK);
      load_tile<kind>(stage_b(next % STAGES), B, g.bt.s_row, g.N, g.K, n0, next * S::kTK);
    }
    cp_commit();
    const E* As = stage_a(kt % STAGES) + (wm * 64) * S::kRow;
    const E* Bs = stage_b(kt % STAGES) + (wn * 32) * S::kRow;
#pragma unroll
    for (int kk = 0; kk < S::kTK; kk += S::kMmaK) {
      uint32_t af[4][4], bf[4][2];
#pragma unroll
      for (int i = 0; i < 4; ++i) load_a<kind>(af[i], As + i * 16 * S::kRow + kk, gid, tig);
#pragma unroll
      for (int j = 0; j < 4; ++j) load_b<kind>(bf[j], Bs + j * 8 * S::kRow + kk, gid, tig);
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) mma<kind>(acc[i][j], af[i], bf[j]);
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

std::atomic<bool> tf32_allowed{false};

// The tensor-core kind for these operand dtypes, or none: bf16/fp16 pairs, and float32 pairs when
// TF32 is allowed; K a multiple of the 16-byte chunk.
std::optional<Tc> tc_kind(const GemmArgs& g) {
  if (g.bt.dtype != g.a.dtype) return std::nullopt;
  const auto d = static_cast<DType>(g.a.dtype);
  if (d == DType::bf16 && g.K % 8 == 0) return Tc::bf16;
  if (d == DType::f16 && g.K % 8 == 0) return Tc::f16;
  if (d == DType::f32 && g.K % 4 == 0 && tf32_allowed.load()) return Tc::tf32;
  return std::nullopt;
}
int64_t chunk_elems(Tc kind) { return kind == Tc::tf32 ? 4 : 8; }
bool unit_k_rows(const Operand& o, Tc kind) { return o.s_col == 1 && o.s_row % chunk_elems(kind) == 0; }
bool tensor_core_ok(const GemmArgs& g, Tc kind) {
  for (const Operand* o : {&g.a, &g.bt}) {
    if (!unit_k_rows(*o, kind) || !aligned16(o->data)) return false;
    for (int d = 0; d < o->batch.rank; ++d)
      if (o->batch.strides[d] % chunk_elems(kind) != 0) return false;
  }
  return true;
}

template <Tc kind>
void launch_tc(const GemmArgs& g) {
  dim3 grid(static_cast<unsigned>((g.N + TN - 1) / TN), static_cast<unsigned>((g.M + TM - 1) / TM), static_cast<unsigned>(g.batch));
  allow_dynamic_smem(reinterpret_cast<const void*>(gemm_tc<kind>), kTcSmem);
  gemm_tc<kind><<<grid, 256, kTcSmem, stream()>>>(g);
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

void set_allow_tf32(bool allow) { tf32_allowed.store(allow); }
bool allow_tf32() { return tf32_allowed.load(); }

void gemm(const GemmArgs& args) {
  if (args.M == 0 || args.N == 0 || args.batch == 0) return;
  if (args.batch > 65535) throw Error("gemm: more than 65535 batch entries");
  GemmArgs g = args;
  Scratch sa, sb;
  const std::optional<Tc> kind = tc_kind(g);
  if (kind) {  // an operand without unit K stride is copied once so the tensor cores can take it
    if (!unit_k_rows(g.a, *kind)) g.a = materialize(g.a, g.M, g.K, g.batch, sa);
    if (!unit_k_rows(g.bt, *kind)) g.bt = materialize(g.bt, g.N, g.K, g.batch, sb);
  }
  if (kind && tensor_core_ok(g, *kind)) {
    if (*kind == Tc::bf16) launch_tc<Tc::bf16>(g);
    else if (*kind == Tc::f16) launch_tc<Tc::f16>(g);
    else launch_tc<Tc::tf32>(g);
  } else {
    dim3 grid(static_cast<unsigned>((g.N + SB - 1) / SB), static_cast<unsigned>((g.M + SB - 1) / SB), static_cast<unsigned>(g.batch));
    gemm_simt<<<grid, 256, 0, stream()>>>(g);
  }
  TF_CUDA_LAUNCHED();
}

}  // namespace tf::cuda
