// Linked when tensorforge is built without CUDA: no device, and every memory call says so.
#include "tensorforge/cuda.h"

namespace tf::cuda {
namespace {
[[noreturn]] void unavailable() { throw Error("built without CUDA support"); }
}  // namespace

bool built() { return false; }
int device_count() { return 0; }
std::string device_name(int) { return ""; }
std::string unavailable_reason() { return "built without CUDA support"; }
void select_device(int device) { throw Error("cuda:" + std::to_string(device) + ": built without CUDA support"); }
int active_device() { return 0; }
void* alloc(size_t) { unavailable(); }
void release(void*) {}
void empty_cache() {}
MemoryStats memory_stats() { return {}; }
void reset_peak() {}
void copy_to_device(void*, const void*, size_t) { unavailable(); }
void copy_to_host(void*, const void*, size_t) { unavailable(); }
void copy_on_device(void*, const void*, size_t) { unavailable(); }
void zero(void*, size_t) { unavailable(); }
void synchronize() {}
// the setting is kept (as torch keeps its flag) though nothing runs on a device
namespace {
bool tf32 = false;
}  // namespace
void set_allow_tf32(bool allow) { tf32 = allow; }
bool allow_tf32() { return tf32; }

}  // namespace tf::cuda
