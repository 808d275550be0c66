// activation_kernel.h built for AVX2+FMA (see CMakeLists.txt).
#define TF_ACT_NS act_avx2
#include "activation_kernel.h"
