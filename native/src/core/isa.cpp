#include "tensorforge/isa.h"
#include <atomic>
#include <cstdlib>
#include <cstring>

namespace tf {

namespace {
Isa detect() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq")) {
    return __builtin_cpu_supports("avx512bf16") ? Isa::avx512_bf16 : Isa::avx512;
  }
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::avx2;
#endif
  return Isa::scalar;
}

Isa from_env(Isa best) {
  const char* e = std::getenv("TENSORFORGE_ISA");
  if (!e || !*e) return best;
  for (int i = 0; i <= static_cast<int>(Isa::avx512_bf16); ++i)
    if (std::strcmp(e, isa_name(static_cast<Isa>(i))) == 0) return static_cast<Isa>(i) < best ? static_cast<Isa>(i) : best;
  return best;  // unknown names are reported by the TypeScript loader
}

std::atomic<int>& active() {
  static std::atomic<int> level{static_cast<int>(from_env(detected_isa()))};
  return level;
}
}  // namespace

Isa detected_isa() {
  static const Isa d = detect();
  return d;
}
Isa active_isa() { return static_cast<Isa>(active().load()); }
Isa set_isa(Isa wanted) {
  Isa v = wanted < detected_isa() ? wanted : detected_isa();
  active().store(static_cast<int>(v));
  return v;
}
const char* isa_name(Isa isa) {
  static const char* names[] = {"scalar", "avx2", "avx512", "avx512_bf16"};
  return names[static_cast<int>(isa)];
}
bool cpu_has_vnni() {
#if defined(__x86_64__)
  return __builtin_cpu_supports("avx512vnni");
#else
  return false;
#endif
}

}  // namespace tf
