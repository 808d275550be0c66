// Packed weights kept across GEMM calls (float32/bf16 panels in gemm.cpp, int8 panels in
// qgemm.cpp). A kernel asks for its operand by key: the buffer's id and write count (from the
// binding, View::storage_id and version), the view and the packing layout. An operand is kept from
// its second use on, so training, which writes new weights every step, keeps nothing past a step;
// a buffer's older versions go when a newer one is kept, all of them when the buffer is freed
// (tf::pack_cache::forget), and the least recently used go past 256 MiB.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include "tensorforge/dtype.h"
#include "tensorforge/pack_cache.h"

namespace tf::cpu {

// 64-byte aligned scratch that only grows
struct Aligned {
  void* p = nullptr;
  size_t bytes = 0;
  void reserve(size_t n) {
    if (n <= bytes) return;
    std::free(p);
    bytes = (n + 63) / 64 * 64;
    p = std::aligned_alloc(64, bytes);
    if (!p) throw std::bad_alloc();
  }
  ~Aligned() { std::free(p); }
};

struct PackKey {
  uint64_t storage, version;
  const void* data;
  int64_t rows, cols, s0, s1;
  DType dtype;
  int layout;  // which kernel's panel layout
  bool operator==(const PackKey& o) const;
};

struct PackEntry {
  Aligned data;
  size_t bytes = 0;
  bool ready = false;  // filled by the call that made it
  uint64_t last_use = 0;
};

// The entry for k: ready to read, or new for this call to fill and then mark_ready (fill = true),
// or null (first sight, no storage id, too large, or another call still filling it).
std::shared_ptr<PackEntry> kept_pack(const PackKey& k, size_t bytes, bool& fill);
void mark_ready(const std::shared_ptr<PackEntry>& e);

}  // namespace tf::cpu
