// attention_kernel.h built with AVX2+FMA (see CMakeLists.txt).
#define TF_ATTN_NS attn_avx2
#include "attention_kernel.h"
