// loops_kernel.h built with AVX-512 (see CMakeLists.txt).
#define TF_LOOPS_NS loops_avx512
#include "loops_kernel.h"
