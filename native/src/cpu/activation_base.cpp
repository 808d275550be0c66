// activation_kernel.h built for baseline x86-64, and the choice of loops by the active ISA.
#define TF_ACT_NS act_base
#include "activation_kernel.h"

#include "tensorforge/isa.h"

namespace tf::cpu {
Activations activations() {
  Isa isa = active_isa();
  if (isa >= Isa::avx512) return {act_avx512::gelu, act_avx512::gelu_backward};
  if (isa == Isa::avx2) return {act_avx2::gelu, act_avx2::gelu_backward};
  return {act_base::gelu, act_base::gelu_backward};
}
}  // namespace tf::cpu
