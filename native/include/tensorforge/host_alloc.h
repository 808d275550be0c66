// A caching allocator for host tensor buffers. Freed blocks are kept by size class and handed out
// again, so a training step does not mmap/munmap (and page-fault in) its activations every time.
// Blocks are 64-byte aligned; large ones are also advised to use transparent huge pages.
#pragma once
#include <cstddef>

namespace tf::host {

void* alloc(size_t bytes);          // nullptr when out of memory
void release(void* p, size_t bytes); // bytes as passed to alloc
size_t cached_bytes();
void empty_cache();                 // frees every cached block

}  // namespace tf::host
