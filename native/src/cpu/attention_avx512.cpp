// attention_kernel.h built with AVX-512 (see CMakeLists.txt).
#define TF_ATTN_NS attn_avx512
#include "attention_kernel.h"
