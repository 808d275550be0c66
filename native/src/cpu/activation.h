// The per-ISA activation loops of activation_kernel.h, and the set the active ISA uses.
#pragma once
#include <cstdint>

namespace tf::cpu {

#define TF_ACT_DECLARE(ns)                                                          \
  namespace ns {                                                                    \
  void gelu(const float* x, float* y, int64_t n);                                   \
  void gelu_backward(const float* x, const float* g, float* y, int64_t n);          \
  }
TF_ACT_DECLARE(act_base)
TF_ACT_DECLARE(act_avx2)
TF_ACT_DECLARE(act_avx512)
#undef TF_ACT_DECLARE

struct Activations {
  void (*gelu)(const float* x, float* y, int64_t n);
  void (*gelu_backward)(const float* x, const float* g, float* y, int64_t n);
};
Activations activations();  // for the active ISA

}  // namespace tf::cpu
