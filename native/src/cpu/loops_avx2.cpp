// loops_kernel.h built with AVX2+FMA (see CMakeLists.txt).
#define TF_LOOPS_NS loops_avx2
#include "loops_kernel.h"
