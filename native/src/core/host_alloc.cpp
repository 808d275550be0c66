#include "tensorforge/host_alloc.h"
#include <sys/mman.h>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace tf::host {
namespace {

constexpr size_t kHuge = size_t(2) << 20;
constexpr size_t kDefaultCap = size_t(1) << 30;

// Size classes: 64-byte steps up to 4 KiB, then four steps per power of two (at most 25% waste).
size_t size_class(size_t bytes) {
  if (bytes <= 4096) return (bytes + 63) / 64 * 64;
  size_t p = 4096;
  while (p * 2 < bytes) p *= 2;
  size_t step = p / 4;
  return (bytes + step - 1) / step * step;
}

struct Cache {
  std::mutex mu;
  std::map<size_t, std::vector<void*>> free;
  size_t cached = 0;
  size_t held = 0;  // bytes taken from the system and not given back (in use + cached)
  size_t cap = [] {
    const char* e = std::getenv("TENSORFORGE_HOST_CACHE_MB");
    return e ? static_cast<size_t>(std::strtoull(e, nullptr, 10)) << 20 : kDefaultCap;
  }();
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: buffers may be released during process exit
  return *c;
}

}  // namespace

void* alloc(size_t bytes) {
  size_t n = size_class(bytes ? bytes : 64);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free.find(n);
    if (it != c.free.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= n;
      return p;
    }
  }
  size_t align = n >= kHuge ? kHuge : 64;
  void* p = std::aligned_alloc(align, (n + align - 1) / align * align);
  if (p && n >= kHuge) madvise(p, n, MADV_HUGEPAGE);
  if (p) {
    std::lock_guard<std::mutex> lock(c.mu);
    c.held += n;
  }
  return p;
}

void release(void* p, size_t bytes) {
  if (!p) return;
  size_t n = size_class(bytes ? bytes : 64);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (c.cached + n <= c.cap) {
      c.free[n].push_back(p);
      c.cached += n;
      return;
    }
    c.held -= n;
  }
  std::free(p);
}

size_t held_bytes() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().held;
}

size_t cached_bytes() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().cached;
}

void empty_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [n, list] : c.free)
    for (void* p : list) {
      std::free(p);
      c.held -= n;
    }
  c.free.clear();
  c.cached = 0;
}

}  // namespace tf::host
