// loops_kernel.h built for baseline x86-64, the choice of loops by the active ISA, and convert.h's
// bfloat16 runs through them.
#define TF_LOOPS_NS loops_base
#include "loops_kernel.h"

#include "tensorforge/isa.h"

namespace tf::cpu {

#define TF_LOOPS_OF(ns) Loops{ns::gelu, ns::gelu_backward, ns::softmax_row, ns::layer_norm_row, ns::layer_norm_backward_row, ns::adamw, ns::dropout_keep, ns::dropout_apply, ns::to_bf16, ns::from_bf16, ns::add_to_f64}
Loops loops() {
  Isa isa = active_isa();
  if (isa >= Isa::avx512) return TF_LOOPS_OF(loops_avx512);
  if (isa == Isa::avx2) return TF_LOOPS_OF(loops_avx2);
  return TF_LOOPS_OF(loops_base);
}
#undef TF_LOOPS_OF

}  // namespace tf::cpu

namespace tf {
void bf16_run_to_f32(const uint16_t* x, float* y, int64_t n) { cpu::loops().from_bf16(x, y, n); }
void f32_run_to_bf16(const float* x, uint16_t* y, int64_t n) { cpu::loops().to_bf16(x, y, n); }
}  // namespace tf
