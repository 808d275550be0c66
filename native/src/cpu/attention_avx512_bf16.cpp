// attention_kernel.h built with AVX-512 and AVX512_BF16 (see CMakeLists.txt): the float32 loops
// for CPUs with BF16, and the bf16 forward (VDPBF16PS).
#define TF_ATTN_NS attn_avx512_bf16
#include "attention_kernel.h"
