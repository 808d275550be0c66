// Loops over contiguous float32 runs compiled once per ISA (loops_kernel.h in loops_base.cpp,
// loops_avx2.cpp, loops_avx512.cpp), and the set the active ISA uses: activations, row-wise softmax
// and LayerNorm (and its backward), the AdamW update, dropout, bfloat16 casts, row sums. The kernels
// call them on contiguous data and keep their plain paths for everything else.
// The Philox loop computes the same words as philox.h, sixteen blocks side by side.
#pragma once
#include <cstdint>

namespace tf::cpu {

struct AdamWFactors {
  float decay, b1, b2, bc2_sqrt, eps, step;
};

#define TF_LOOPS_DECLARE(ns)                                                                           \
  namespace ns {                                                                                       \
  void gelu(const float* x, float* y, int64_t n);                                                      \
  void gelu_backward(const float* x, const float* g, float* y, int64_t n);                             \
  void softmax_row(const float* x, float* y, int64_t n);                                               \
  void layer_norm_row(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd, int64_t n); \
  void layer_norm_backward_row(const float* g, const float* x, float mean, float rstd, const float* w, float* dx, double* acc_w, double* acc_b, int64_t n); \
  void adamw(float* p, const float* g, float* m, float* v, int64_t n, const AdamWFactors& f);          \
  void dropout_keep(uint64_t seed, uint64_t first_block, int64_t blocks, float p, uint8_t* keep);      \
  void dropout_apply(const float* x, const uint8_t* keep, float scale, float* y, int64_t n);           \
  void to_bf16(const float* x, uint16_t* y, int64_t n);                                                \
  void from_bf16(const uint16_t* x, float* y, int64_t n);                                              \
  void add_to_f64(const float* x, double* acc, int64_t n);                                             \
  }
TF_LOOPS_DECLARE(loops_base)
TF_LOOPS_DECLARE(loops_avx2)
TF_LOOPS_DECLARE(loops_avx512)
#undef TF_LOOPS_DECLARE

struct Loops {
  void (*gelu)(const float* x, float* y, int64_t n);
  void (*gelu_backward)(const float* x, const float* g, float* y, int64_t n);
  // y = softmax(x) over one row
  void (*softmax_row)(const float* x, float* y, int64_t n);
  // one row of LayerNorm; w, b may be null; writes the row's mean and 1/std
  void (*layer_norm_row)(const float* x, const float* w, const float* b, float eps, float* y, float* mean, float* rstd, int64_t n);
  // one row of its backward: dx, and the row's dweight (g xhat) and dbias (g) terms added to acc_w, acc_b
  void (*layer_norm_backward_row)(const float* g, const float* x, float mean, float rstd, const float* w, float* dx, double* acc_w, double* acc_b, int64_t n);
  void (*adamw)(float* p, const float* g, float* m, float* v, int64_t n, const AdamWFactors& f);
  // keep[4 k + w] = (uniform of word w of Philox block first_block + k) >= p, for k < blocks
  void (*dropout_keep)(uint64_t seed, uint64_t first_block, int64_t blocks, float p, uint8_t* keep);
  // y = keep ? x * scale : 0 (dropout forward and backward)
  void (*dropout_apply)(const float* x, const uint8_t* keep, float scale, float* y, int64_t n);
  // float32 <-> bfloat16 bits, rounding as f32_to_bf16 (nearest even, NaN stays NaN)
  void (*to_bf16)(const float* x, uint16_t* y, int64_t n);
  void (*from_bf16)(const uint16_t* x, float* y, int64_t n);
  // acc += x, widened to double (sums over rows: bias gradients)
  void (*add_to_f64)(const float* x, double* acc, int64_t n);
};
Loops loops();  // for the active ISA

}  // namespace tf::cpu
