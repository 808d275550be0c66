// Linked when tensorforge is built without CUDA: no device, and the binding reports
// "built without CUDA support" for any call on the cuda backend.
#include "tensorforge/cuda.h"

namespace tf::cuda {

bool built() { return false; }
int device_count() { return 0; }

}  // namespace tf::cuda
