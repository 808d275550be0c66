// attention_kernel.h built for baseline x86-64.
#define TF_ATTN_NS attn_base
#include "attention_kernel.h"
