// The machine's limits (ceiling.h): run a peak loop on every thread for about `seconds` and count.
#include <chrono>
#include <cstring>
#include <vector>
#include "tensorforge/ceiling.h"
#include "tensorforge/isa.h"
#include "tensorforge/parallel.h"

namespace tf::ceiling {
namespace {

volatile float g_sink;  // keeps the loops' results alive

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// `work(iters)` on every thread; returns iterations per second per thread, for about `seconds`
template <class Fn>
double rate(Fn work, double seconds) {
  long iters = 1000;
  for (;;) {
    double t0 = now();
#pragma omp parallel
    { g_sink = static_cast<float>(work(iters)); }
    double dt = now() - t0;
    if (dt >= seconds || iters > (1L << 40)) return static_cast<double>(iters) / dt;
    iters = static_cast<long>(static_cast<double>(iters) * std::min(100.0, 1.2 * seconds / std::max(dt, 1e-6)));
  }
}

}  // namespace

// ops per loop iteration per thread: 12 instructions x lanes x work per lane
double fma_f32_gflops(double seconds) {
  Isa isa = active_isa();
  if (isa >= Isa::avx512) return max_threads() * rate(fma_avx512, seconds) * 12 * 16 * 2 / 1e9;
  if (isa == Isa::avx2) return max_threads() * rate(fma_avx2, seconds) * 12 * 8 * 2 / 1e9;
  return 0.0;
}
double bf16_dot_gflops(double seconds) {
  return active_isa() == Isa::avx512_bf16 ? max_threads() * rate(dpbf16_avx512, seconds) * 12 * 32 * 2 / 1e9 : 0.0;
}
double int8_dot_gops(double seconds) {
  return active_isa() >= Isa::avx512 && cpu_has_vnni() ? max_threads() * rate(dpbusd_avx512, seconds) * 12 * 64 * 2 / 1e9 : 0.0;
}

double copy_gbps(double seconds) {
  const size_t bytes = size_t(256) << 20;  // far beyond any last-level cache here
  std::vector<char> a(bytes, 1), b(bytes, 2);
  long reps = 0;
  double t0 = now(), dt = 0;
  do {
    parallel_for(static_cast<int64_t>(bytes >> 20), int64_t(1) << 20, [&](int64_t s, int64_t e) {
      std::memcpy(b.data() + (s << 20), a.data() + (s << 20), static_cast<size_t>((e - s) << 20));
    });
    ++reps;
    dt = now() - t0;
  } while (dt < seconds);
  g_sink = static_cast<float>(b[bytes / 2]);
  return 2.0 * static_cast<double>(bytes) * reps / dt / 1e9;
}

}  // namespace tf::ceiling
