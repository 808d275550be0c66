// activation_kernel.h built for AVX-512 (see CMakeLists.txt).
#define TF_ACT_NS act_avx512
#include "activation_kernel.h"
