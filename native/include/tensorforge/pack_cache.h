// What the binding needs of the kernels' cache of packed weights (native/src/cpu/pack_cache.h).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tf::pack_cache {

void forget(uint64_t storage_id);  // a buffer was freed: drop what was kept of it
size_t bytes();                    // bytes kept now

}  // namespace tf::pack_cache
