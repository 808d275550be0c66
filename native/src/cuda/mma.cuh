// Warp-level tensor-core instructions (mma.sync, sm_80+) shared by the GEMM and attention kernels.
// Fragment layouts (PTX ISA, per lane: gid = lane / 4, tig = lane % 4): for m16n8k16 the A
// registers hold rows gid / gid + 8 at k = 2 tig, 2 tig + 1 (a0, a1) and k + 8 (a2, a3); B holds
// column gid at k = 2 tig, 2 tig + 1 (b0) and k + 8 (b1); the float accumulator holds rows gid (c0,
// c1) and gid + 8 (c2, c3) at columns 2 tig, 2 tig + 1. m16n8k8 tf32 holds one value per register at
// k = tig and tig + 4.
#pragma once
#include "common.cuh"

namespace tf::cuda {

enum class Tc { bf16, f16, tf32 };

__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t r;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
  return r;
}

// the 16-bit pattern of x rounded to bf16 or fp16
template <Tc kind>
__device__ __forceinline__ uint16_t half_bits(float x) {
  if constexpr (kind == Tc::bf16) return __bfloat16_as_ushort(__float2bfloat16_rn(x));
  else return __half_as_ushort(__float2half_rn(x));
}
// two values in one register, the lower k index in the low half
template <Tc kind>
__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  return static_cast<uint32_t>(half_bits<kind>(lo)) | (static_cast<uint32_t>(half_bits<kind>(hi)) << 16);
}

// c (16x8 float) += a (16xK) b (Kx8), K = 16 (bf16/fp16) or 8 (tf32)
template <Tc kind>
__device__ __forceinline__ void mma(float* c, const uint32_t* a, const uint32_t* b) {
  if constexpr (kind == Tc::bf16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else if constexpr (kind == Tc::f16)
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  else
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, {%0,%1,%2,%3};\n"
                 : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
}

}  // namespace tf::cuda
