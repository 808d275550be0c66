// loops_kernel.h built for baseline x86-64, and the choice of loops by the active ISA.
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
