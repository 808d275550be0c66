// Flash attention forward on tensor cores, after FlashAttention-2: a block of 4 warps takes 64
// queries of one (batch, head), 16 per warp, and walks the keys in tiles of 64 staged in shared
// memory. S = Q K^T and O += P V are mma.sync m16n8k16 products with float32 accumulation; the
// online softmax runs on the accumulator registers, and P passes from S's accumulator layout
// straight into the A operand of P V (the layouts line up), so S never leaves registers. The lse
// is saved for the backward pass as by the SIMT kernel (attention.cu), which handles the rest.
#include "attention.cuh"
#include "mma.cuh"

namespace tf::cuda {
namespace {

constexpr int kRows = 64, kKeys = 64, kWarps = 4;

// Q and K tiles row-major with 16 bytes of padding per row; V transposed ([D][keys]) so that its B
// fragments are 32-bit loads like the others
template <int D>
struct Layout {
  static constexpr int kPitch = D + 8;
  static constexpr int kVtPitch = kKeys + 8;
  static constexpr size_t kBytes = (size_t(kRows + kKeys) * kPitch + size_t(D) * kVtPitch) * sizeof(uint16_t);
};

// rows [s0, s0 + n) of t (b, h) as 16-bit values into dst [n][pitch], or [D][pitch] transposed;
// rows past S are zeros
template <Tc kind>
__device__ void stage(uint16_t* dst, int pitch, bool transposed, const DView& t, int64_t b, int64_t h, int64_t s0, int64_t S, int n,
                      int D) {
  for (int e = threadIdx.x; e < n * D; e += blockDim.x) {
    const int r = e / D, d = e % D;
    const float x = s0 + r < S ? t.load(at4(t, b, h, s0 + r, d)) : 0.0f;
    dst[transposed ? d * pitch + r : r * pitch + d] = half_bits<kind>(x);
  }
}

__device__ __forceinline__ uint32_t ld32(const uint16_t* p) { return *reinterpret_cast<const uint32_t*>(p); }

template <Tc kind, int D>
__global__ void __launch_bounds__(kWarps * 32) attention_forward_tc_kernel(Attn a) {
  using L = Layout<D>;
  extern __shared__ __align__(16) uint16_t smem[];
  uint16_t* Qs = smem;
  uint16_t* Ks = Qs + kRows * L::kPitch;
  uint16_t* Vt = Ks + kKeys * L::kPitch;
  const int64_t b = blockIdx.y / a.H, h = blockIdx.y % a.H, i0 = blockIdx.x * int64_t(kRows);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, gid = lane / 4, tig = lane % 4;
  stage<kind>(Qs, L::kPitch, false, a.q, b, h, i0, a.Sq, kRows, D);
  __syncthreads();
  // the warp's 16 query rows as A fragments, one per 16 of D
  uint32_t qf[D / 16][4];
  const uint16_t* qw = Qs + (warp * 16 + gid) * L::kPitch + 2 * tig;
#pragma unroll
  for (int ks = 0; ks < D / 16; ++ks) {
    qf[ks][0] = ld32(qw + ks * 16);
    qf[ks][1] = ld32(qw + 8 * L::kPitch + ks * 16);
    qf[ks][2] = ld32(qw + ks * 16 + 8);
    qf[ks][3] = ld32(qw + 8 * L::kPitch + ks * 16 + 8);
  }
  // accumulator value x of a tile is row x / 2 (rows gid, gid + 8) at column 2 tig + x % 2
  float o[D / 8][4] = {};
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // l: this lane's part of the row sum
  const int64_t row[2] = {i0 + warp * 16 + gid, i0 + warp * 16 + gid + 8};
  const int64_t j_end = a.causal ? min(a.Sk, i0 + kRows) : a.Sk;
  for (int64_t j0 = 0; j0 < j_end; j0 += kKeys) {
    __syncthreads();  // every warp is done with the previous tile
    stage<kind>(Ks, L::kPitch, false, a.k, b, h, j0, a.Sk, kKeys, D);
    stage<kind>(Vt, L::kVtPitch, true, a.v, b, h, j0, a.Sk, kKeys, D);
    __syncthreads();
    float s[kKeys / 8][4] = {};
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt) {
      const uint16_t* kp = Ks + (nt * 8 + gid) * L::kPitch + 2 * tig;
#pragma unroll
      for (int ks = 0; ks < D / 16; ++ks) {
        const uint32_t bf[2] = {ld32(kp + ks * 16), ld32(kp + ks * 16 + 8)};
        mma<kind>(s[nt], qf[ks], bf);
      }
    }
    // scale and mask, then the online softmax (a row's 64 keys are spread over the 4 lanes of a quad)
    float mx[2] = {m[0], m[1]};
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt)
#pragma unroll
      for (int x = 0; x < 4; ++x) {
        const int64_t j = j0 + nt * 8 + 2 * tig + (x & 1);
        s[nt][x] = visible(a, b, row[x / 2], j) ? s[nt][x] * a.scale : -INFINITY;
        mx[x / 2] = fmaxf(mx[x / 2], s[nt][x]);
      }
    float alpha[2];
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
      mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
      alpha[r] = m[r] == -INFINITY ? 0.0f : __expf(m[r] - mx[r]);
      m[r] = mx[r];
      l[r] *= alpha[r];
    }
#pragma unroll
    for (int nt = 0; nt < kKeys / 8; ++nt)
#pragma unroll
      for (int x = 0; x < 4; ++x) {
        const float p = m[x / 2] == -INFINITY ? 0.0f : __expf(s[nt][x] - m[x / 2]);
        s[nt][x] = p;
        l[x / 2] += p;
      }
#pragma unroll
    for (int nt = 0; nt < D / 8; ++nt)
#pragma unroll
      for (int x = 0; x < 4; ++x) o[nt][x] *= alpha[x / 2];
    // O += P V; the accumulator pairs of two key tiles are the A fragment of 16 keys
#pragma unroll
    for (int ks = 0; ks < kKeys / 16; ++ks) {
      const uint32_t pf[4] = {pack_half2<kind>(s[2 * ks][0], s[2 * ks][1]), pack_half2<kind>(s[2 * ks][2], s[2 * ks][3]),
                              pack_half2<kind>(s[2 * ks + 1][0], s[2 * ks + 1][1]), pack_half2<kind>(s[2 * ks + 1][2], s[2 * ks + 1][3])};
#pragma unroll
      for (int nt = 0; nt < D / 8; ++nt) {
        const uint16_t* vp = Vt + (nt * 8 + gid) * L::kVtPitch + ks * 16 + 2 * tig;
        const uint32_t bf[2] = {ld32(vp), ld32(vp + 8)};
        mma<kind>(o[nt], pf, bf);
      }
    }
  }
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
  }
#pragma unroll
  for (int nt = 0; nt < D / 8; ++nt)
#pragma unroll
    for (int x = 0; x < 4; ++x) {
      const int r = x / 2;
      if (row[r] < a.Sq) a.o.store(at4(a.o, b, h, row[r], nt * 8 + 2 * tig + (x & 1)), l[r] > 0.0f ? o[nt][x] / l[r] : 0.0f);
    }
  if (tig == 0)
    for (int r = 0; r < 2; ++r)
      if (row[r] < a.Sq)
        a.lse.store(b * a.lse.strides[0] + h * a.lse.strides[1] + row[r] * a.lse.strides[2], l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY);
}

template <Tc kind, int D>
void launch(const Attn& a, int64_t B) {
  const auto kernel = attention_forward_tc_kernel<kind, D>;
  allow_dynamic_smem(reinterpret_cast<const void*>(kernel), Layout<D>::kBytes);
  kernel<<<dim3(static_cast<unsigned>((a.Sq + kRows - 1) / kRows), static_cast<unsigned>(B * a.H)), kWarps * 32, Layout<D>::kBytes,
           stream()>>>(a);
  TF_CUDA_LAUNCHED();
}

template <Tc kind>
void launch_for_head(const Attn& a, int64_t B) {
  if (a.D == 32) launch<kind, 32>(a, B);
  else if (a.D == 64) launch<kind, 64>(a, B);
  else launch<kind, 128>(a, B);
}

}  // namespace

bool attention_forward_tc(const Attn& a, int64_t B, DType q, DType k, DType v) {
  if (q != k || q != v || (q != DType::bf16 && q != DType::f16)) return false;
  if (a.D != a.Dv || (a.D != 32 && a.D != 64 && a.D != 128)) return false;
  if (a.Sq == 0 || B * a.H == 0) return true;
  if (q == DType::bf16) launch_for_head<Tc::bf16>(a, B);
  else launch_for_head<Tc::f16>(a, B);
  return true;
}

}  // namespace tf::cuda
