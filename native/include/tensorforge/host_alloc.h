// A caching allocator for host tensor buffers. Freed blocks are kept by size class and handed out
// again, so a training step does not mmap/munmap (and page-fault in) its activations every time.
// Blocks are 64-byte aligned; large ones are also advised to use transparent huge pages.
#pragma once
#include <cstddef>
#include <new>

namespace tf::host {

void* alloc(size_t bytes);          // nullptr when out of memory
void release(void* p, size_t bytes); // bytes as passed to alloc
size_t cached_bytes();
size_t held_bytes();                // taken from the system: in use + cached
void empty_cache();                 // frees every cached block

// A scratch buffer of n T's from the cache, returned to it when it goes out of scope.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t n) { resize(n); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() { release(p_, n_ * sizeof(T)); }
  void resize(size_t n) {
    release(p_, n_ * sizeof(T));
    p_ = static_cast<T*>(alloc(n * sizeof(T)));
    n_ = n;
    if (!p_ && n) throw std::bad_alloc();
  }
  T* data() { return p_; }
  bool empty() const { return n_ == 0; }
  size_t size() const { return n_; }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};
using FloatBuffer = Buffer<float>;

}  // namespace tf::host
