// What the rest of the build knows of CUDA. A build without CUDA links cuda/stub.cpp, whose
// functions say so; the CUDA backend (issue: CUDA backend) replaces it.
#pragma once

namespace tf::cuda {

bool built();        // compiled with CUDA support
int device_count();  // 0 when not built, no driver, or no device

}  // namespace tf::cuda
