// The CUDA runtime of the backend: device discovery, the stream, checked copies and the caching
// allocator, all on the one device this process uses.
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include "common.cuh"

namespace tf::cuda {

void throw_error(cudaError_t e, const char* what, const char* file, int line) {
  cudaGetLastError();  // clear a sticky launch error so later calls report their own
  throw Error(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + what + " at " +
              file + ":" + std::to_string(line));
}

namespace {

struct Probe {
  int count = 0;
  std::string why;
};
const Probe& probe() {
  static const Probe p = [] {
    Probe r;
    cudaError_t e = cudaGetDeviceCount(&r.count);
    if (e != cudaSuccess) {
      cudaGetLastError();
      r.count = 0;
      r.why = std::string("no usable CUDA driver or device (") + cudaGetErrorString(e) + ")";
    } else if (r.count == 0) {
      r.why = "no CUDA device";
    }
    return r;
  }();
  return p;
}

// Freed blocks by size; a request takes the smallest cached block that fits within 2x its size.
// Sizes round up to 512 bytes (small) or 2 MiB (large) so blocks are reused across similar shapes.
class Allocator {
 public:
  void* alloc(size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t size = round(bytes == 0 ? 1 : bytes);
    auto it = free_.lower_bound(size);
    if (it != free_.end() && it->first <= 2 * size) {
      void* p = it->second;
      size = it->first;
      free_.erase(it);
      return hand_out(p, size);
    }
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {  // give the cache back to the driver and try once more
      cudaGetLastError();
      release_cache();
      e = cudaMalloc(&p, size);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      throw Error("cuda:" + std::to_string(active_device()) + " out of memory: asked for " + std::to_string(bytes) + " bytes, " + std::to_string(free_b) + " of " +
                  std::to_string(total_b) + " bytes free on the device (" + std::to_string(stats_.allocated) +
                  " in tensors)");
    }
    stats_.reserved += size;
    return hand_out(p, size);
  }
  void release(void* p) {
    if (!p) return;
    std::lock_guard<std::mutex> lock(mu_);
    auto it = live_.find(p);
    if (it == live_.end()) return;
    stats_.allocated -= it->second;
    free_.emplace(it->second, p);
    live_.erase(it);
  }
  void empty() {
    std::lock_guard<std::mutex> lock(mu_);
    release_cache();
  }
  MemoryStats stats() {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.peak = stats_.allocated;
  }

 private:
  static size_t round(size_t n) {
    const size_t q = n < (size_t(1) << 20) ? 512 : (size_t(2) << 20);
    return (n + q - 1) / q * q;
  }
  void* hand_out(void* p, size_t size) {
    live_[p] = size;
    stats_.allocated += size;
    if (stats_.allocated > stats_.peak) stats_.peak = stats_.allocated;
    return p;
  }
  void release_cache() {  // callers hold mu_; kernels still queued may use cached blocks: sync first
    cudaStreamSynchronize(stream());
    for (auto& [size, p] : free_) {
      cudaFree(p);
      stats_.reserved -= size;
    }
    free_.clear();
  }
  std::mutex mu_;
  std::multimap<size_t, void*> free_;
  std::unordered_map<void*, size_t> live_;
  MemoryStats stats_;
};
Allocator& allocator() {
  static Allocator* a = new Allocator();  // never destroyed: the driver may be gone at exit
  return *a;
}

}  // namespace

bool built() { return true; }
int device_count() { return probe().count; }
std::string unavailable_reason() { return probe().why; }
std::string device_name(int device) {
  cudaDeviceProp p;
  TF_CUDA_CHECK(cudaGetDeviceProperties(&p, device));
  return p.name;
}

namespace {
std::atomic<int> chosen{-1};
}  // namespace

void select_device(int device) {
  if (device_count() == 0) throw Error("cuda:" + std::to_string(device) + ": " + unavailable_reason());
  if (device < 0 || device >= device_count())
    throw Error("cuda:" + std::to_string(device) + ": no such device (" + std::to_string(device_count()) + " present)");
  int prev = -1;
  if (!chosen.compare_exchange_strong(prev, device) && prev != device)
    throw Error("cuda:" + std::to_string(device) + ": this process already computes on cuda:" + std::to_string(prev) +
                " (one device per process: start one process per GPU)");
}
int active_device() {
  int d = chosen.load();
  return d < 0 ? 0 : d;
}

cudaStream_t stream() {
  static cudaStream_t s = [] {
    select_device(active_device());
    TF_CUDA_CHECK(cudaSetDevice(active_device()));
    cudaStream_t r;
    TF_CUDA_CHECK(cudaStreamCreateWithFlags(&r, cudaStreamNonBlocking));
    return r;
  }();
  // the current device is per host thread (worker threads call in too)
  thread_local bool bound = false;
  if (!bound) {
    TF_CUDA_CHECK(cudaSetDevice(active_device()));
    bound = true;
  }
  return s;
}
int sm_count() {
  static int n = [] {
    int v = 0;
    TF_CUDA_CHECK(cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, active_device()));
    return v;
  }();
  return n;
}

void allow_dynamic_smem(const void* kernel, size_t bytes) {
  static std::mutex mu;
  static std::unordered_map<const void*, size_t> allowed;
  std::lock_guard<std::mutex> lock(mu);
  size_t& have = allowed[kernel];
  if (bytes <= have) return;
  TF_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  have = bytes;
}

void* alloc(size_t bytes) {
  stream();  // fails with the reason when there is no device
  return allocator().alloc(bytes);
}
// Blocks go back to the cache at once: the stream orders every later use after earlier kernels.
void release(void* p) { allocator().release(p); }
void empty_cache() { allocator().empty(); }
MemoryStats memory_stats() { return allocator().stats(); }
void reset_peak() { allocator().reset_peak(); }

void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  TF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()));
  TF_CUDA_CHECK(cudaStreamSynchronize(stream()));
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  TF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()));
  TF_CUDA_CHECK(cudaStreamSynchronize(stream()));
}
void copy_on_device(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  TF_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
}
void zero(void* dst, size_t bytes) {
  if (bytes) TF_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream()));
}
void synchronize() { TF_CUDA_CHECK(cudaStreamSynchronize(stream())); }

}  // namespace tf::cuda
