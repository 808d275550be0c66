// The cache of packed weights (pack_cache.h).
#include "pack_cache.h"
#include <algorithm>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

namespace tf::cpu {

bool PackKey::operator==(const PackKey& o) const {
  return storage == o.storage && version == o.version && data == o.data && rows == o.rows && cols == o.cols && s0 == o.s0 && s1 == o.s1 &&
         dtype == o.dtype && layout == o.layout;
}

namespace {
struct PackKeyHash {
  size_t operator()(const PackKey& k) const {
    uint64_t h = k.storage * 0x9E3779B97F4A7C15ull ^ k.version * 0xC2B2AE3D27D4EB4Full ^ reinterpret_cast<uintptr_t>(k.data);
    h ^= static_cast<uint64_t>(k.rows * 31 + k.cols) * 0x165667B19E3779F9ull ^ static_cast<uint64_t>(k.s0 * 17 + k.s1) ^ static_cast<uint64_t>(k.layout);
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

class PackCache {
 public:
  static constexpr size_t kLimit = size_t(256) << 20, kSeen = 1024;
  // the entry for k: ready to read, or new for this call to fill (fill = true), or null on first sight
  std::shared_ptr<PackEntry> get(const PackKey& k, size_t bytes, bool& fill) {
    std::lock_guard<std::mutex> lock(mu_);
    fill = false;
    auto it = entries_.find(k);
    if (it != entries_.end()) {
      it->second->last_use = ++clock_;
      return it->second->ready ? it->second : nullptr;  // another call is still filling it
    }
    if (!seen_.count(k)) {
      seen_.insert(k);
      seen_order_.push_back(k);
      if (seen_order_.size() > kSeen) {
        seen_.erase(seen_order_.front());
        seen_order_.pop_front();
      }
      return nullptr;
    }
    if (bytes > kLimit / 4) return nullptr;
    drop_if([&](const PackKey& o) { return o.storage == k.storage; });  // older versions of this buffer
    while (bytes_ + bytes > kLimit && !entries_.empty()) {
      auto lru = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) { return a.second->last_use < b.second->last_use; });
      drop_if([&](const PackKey& o) { return o == lru->first; });
    }
    auto e = std::make_shared<PackEntry>();
    e->data.reserve(bytes);
    e->bytes = bytes;
    e->last_use = ++clock_;
    entries_.emplace(k, e);
    ++held_[k.storage];
    bytes_ += bytes;
    fill = true;
    return e;
  }
  void mark_ready(const std::shared_ptr<PackEntry>& e) {
    std::lock_guard<std::mutex> lock(mu_);
    e->ready = true;
  }
  void forget(uint64_t storage) {  // runs whenever any buffer is freed: usually nothing to drop
    std::lock_guard<std::mutex> lock(mu_);
    if (held_.count(storage)) drop_if([&](const PackKey& o) { return o.storage == storage; });
  }
  size_t bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  template <class F>
  void drop_if(F f) {  // callers hold mu_; a call still reading an entry keeps it alive (shared_ptr)
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (f(it->first)) {
        bytes_ -= it->second->bytes;
        if (--held_[it->first.storage] == 0) held_.erase(it->first.storage);
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  std::mutex mu_;
  std::unordered_map<PackKey, std::shared_ptr<PackEntry>, PackKeyHash> entries_;
  std::unordered_map<uint64_t, int> held_;  // entries per buffer
  std::unordered_set<PackKey, PackKeyHash> seen_;
  std::deque<PackKey> seen_order_;
  size_t bytes_ = 0;
  uint64_t clock_ = 0;
};
PackCache& pack_cache() {
  static PackCache* c = new PackCache();  // never destroyed: GEMMs may run during exit
  return *c;
}

}  // namespace

std::shared_ptr<PackEntry> kept_pack(const PackKey& k, size_t bytes, bool& fill) {
  fill = false;
  return k.storage == 0 ? nullptr : pack_cache().get(k, bytes, fill);
}
void mark_ready(const std::shared_ptr<PackEntry>& e) { pack_cache().mark_ready(e); }

}  // namespace tf::cpu

namespace tf::pack_cache {
void forget(uint64_t storage_id) { cpu::pack_cache().forget(storage_id); }
size_t bytes() { return cpu::pack_cache().bytes(); }
}  // namespace tf::pack_cache
