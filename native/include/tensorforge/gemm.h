// C[m,n] = alpha * sum_k A[m,k] * B[k,n] (+ beta * C) (+ bias[n]), float32 accumulation.
// A and B are read through arbitrary element strides (so transposed views cost nothing: packing
// reads them), float32, bfloat16 or float16. C is float32 with unit column stride.
#pragma once
#include <cstdint>
#include "tensorforge/dtype.h"

namespace tf::gemm {

struct Args {
  int64_t M = 0, N = 0, K = 0;
  const void* A = nullptr; DType a_dtype = DType::f32; int64_t a_sm = 0, a_sk = 0;
  const void* B = nullptr; DType b_dtype = DType::f32; int64_t b_sk = 0, b_sn = 0;
  float* C = nullptr; int64_t ldc = 0;
  float beta = 0.0f;             // 0: overwrite C, 1: accumulate into C
  const float* bias = nullptr;   // optional, added once per row
  const float* residual = nullptr; int64_t ldr = 0;  // optional [M, N] rows ldr apart, added after the bias
  bool parallel = true;          // false when the caller already runs one GEMM per thread
  uint64_t b_storage = 0, b_version = 0;  // B's buffer and write count (View::storage_id, version); 0: unknown
};

// B's packed panels are kept across calls when the same B comes again (native/src/cpu/pack_cache.h).
void run(const Args& args);

// What a micro-kernel adds to its tile of products before storing it, in this order: what C holds
// (accumulating over k slices), the bias (NR values, on every row), a residual tile (rows ldr
// apart); the last two only in the last k slice; null: none.
struct Epilogue {
  bool accumulate = false;
  const float* bias = nullptr;
  const float* residual = nullptr;
  int64_t ldr = 0;
};

// Micro-kernels: C[MR x NR] = Ap[kc x MR]^T * Bp[kc x NR] (+ the epilogue's terms) over packed panels.
// f32 panels are k-major: Ap[k*MR + i], Bp[k*NR + j]. bf16 panels are k-pair-major:
// Ap[(p*MR + i)*2 + {0,1}], Bp[(p*NR + j)*2 + {0,1}] with kc rounded up to even.
using UkrF32 = void (*)(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, const Epilogue& e);
using UkrBf16 = void (*)(int64_t kc2, const uint16_t* Ap, const uint16_t* Bp, float* C, int64_t ldc, const Epilogue& e);

void ukr_avx512_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, const Epilogue& e);
void ukr_avx2_f32(int64_t kc, const float* Ap, const float* Bp, float* C, int64_t ldc, const Epilogue& e);
void ukr_avx512_bf16(int64_t kc2, const uint16_t* Ap, const uint16_t* Bp, float* C, int64_t ldc, const Epilogue& e);

// Rows [0, rows) (rows <= 32, unit k stride) x k [0, kc) of X into a 32-wide k-major panel
// P[k * 32 + r], rows past `rows` zero: the transposing pack of a linear layer's weight, as 16 x 16
// register transposes (each row read a cache line at a time, not one scalar per element).
void pack_panel32_f32_avx512(const float* X, int64_t s_r, int rows, int64_t kc, float* P);

// Rows [0, rows) (rows <= 32, unit row stride: a matrix whose rows run along n) x k [0, kc) of
// bfloat16 X into a 32-wide bf16 pair panel P[(q * 32 + r) * 2 + u] = X[(2q + u) * s_k + r], the
// two k rows of a pair interleaved in registers; an odd kc pairs its last row with zeros.
void pack_panel32_bf16_pairs_avx512(const uint16_t* X, int64_t s_k, int rows, int64_t kc, uint16_t* P);

// The same for an 8-row panel of A (rows <= 8), P[k * 8 + r], by 8 x 8 transposes.
void pack_panel8_f32_avx512(const float* X, int64_t s_r, int rows, int64_t kc, float* P);
// An 8-wide bf16 pair panel from a matrix whose rows run along m (a transposed A, such as the
// output gradient in a weight gradient), as pack_panel32_bf16_pairs_avx512 does for 32.
void pack_panel8_bf16_pairs_avx512(const uint16_t* X, int64_t s_k, int rows, int64_t kc, uint16_t* P);

constexpr int kAvx512MR = 8, kAvx512NR = 32;
constexpr int kAvx2MR = 6, kAvx2NR = 16;
constexpr int kScalarMR = 4, kScalarNR = 8;

}  // namespace tf::gemm
