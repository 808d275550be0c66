// The CUDA GEMM shared by matmul, linear and attention's callers:
//   C[z](m, n) = sum_k A[z](m, k) * Bt[z](n, k)  (+ bias[n]),  C contiguous [batch, M, N].
// Operands are addressed through row/column strides plus a batch view, so transposes and
// broadcast batch dims cost nothing. bf16/fp16 operands with unit column stride and 16-byte
// aligned rows run on tensor cores (mma.sync m16n8k16, float32 accumulation, cp.async 3-stage
// pipeline; half operands without unit K stride are copied to contiguous scratch first); everything
// else (float32, K not a multiple of 8, unaligned) on the SIMT kernel.
#pragma once
#include "common.cuh"

namespace tf::cuda {

struct Operand {
  const char* data;
  int dtype;
  int64_t s_row, s_col;  // element strides of the row and column index
  DView batch;           // offset of batch z: batch.offset_of(z) (data unused)
};

struct GemmArgs {
  Operand a, bt;
  int64_t M, N, K, batch;
  DView bias;     // float32 [N] when has_bias
  bool has_bias;
  char* c;        // contiguous [batch, M, N]
  int c_dtype;
};

// Runs C = A Bt^T (+ bias) on the backend's stream.
void gemm(const GemmArgs& g);
// An operand copied to a contiguous [batch, rows, cols] scratch buffer (unit column stride).
Operand materialize(const Operand& op, int64_t rows, int64_t cols, int64_t batch, Scratch& into);

}  // namespace tf::cuda
