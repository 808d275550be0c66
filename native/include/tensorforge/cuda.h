// What the rest of the build knows of CUDA: plain C++ declarations, so the binding, the op checks
// and the native tools compile without nvcc. A build without CUDA links cuda/stub.cpp (no device;
// memory calls throw); the CUDA variant links cuda/runtime.cu instead.
#pragma once
#include <cstddef>
#include <stdexcept>
#include <string>

namespace tf::cuda {

// A failed CUDA call or launch, or device memory exhausted. The message names the call (or what
// was being allocated) and CUDA's error string; the process and earlier allocations stay usable.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

bool built();                       // compiled with CUDA support
int device_count();                 // 0 when not built, no driver, or no device
std::string device_name(int device);
std::string unavailable_reason();   // why device_count() is 0 ("" when it is not)

// The device this process computes on: one per process (device 0 unless chosen before first use),
// as with one training process per GPU. Choosing another once one is in use throws Error.
void select_device(int device);
int active_device();

// The caching device allocator: blocks are kept by size when freed and handed out again, so no op
// calls cudaMalloc once the working set is reached. Out of memory (after emptying the cache once)
// throws Error saying how many bytes were asked for and how many are free.
void* alloc(size_t bytes);
void release(void* p);
void empty_cache();
struct MemoryStats {
  size_t allocated = 0;  // in tensors now
  size_t reserved = 0;   // taken from the driver: allocated + cached
  size_t peak = 0;       // highest `allocated` since the start or reset_peak()
};
MemoryStats memory_stats();
void reset_peak();

// Copies on the backend's stream; to_host/to_device wait until the bytes have landed.
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void copy_on_device(void* dst, const void* src, size_t bytes);
void zero(void* dst, size_t bytes);
void synchronize();

// float32 GEMMs (matmul, linear) on tensor cores as TF32 (inputs rounded to a 10-bit mantissa,
// float32 accumulation), as torch.backends.cuda.matmul.allow_tf32; off by default.
void set_allow_tf32(bool allow);
bool allow_tf32();

}  // namespace tf::cuda
