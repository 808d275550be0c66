// This machine's limits, measured on the current OpenMP threads by loops that do nothing else, so
// every kernel can be read as a fraction of them: FMA float32, VDPBF16PS bf16, VPDPBUSD int8
// (dependent-free chains in registers), and copy bandwidth (buffers far larger than the caches).
#pragma once

namespace tf::ceiling {

double fma_f32_gflops(double seconds);   // AVX-512 or AVX2 FMA, whichever the active ISA allows
double bf16_dot_gflops(double seconds);  // 0 without AVX512_BF16
double int8_dot_gops(double seconds);    // 0 without AVX512_VNNI
double copy_gbps(double seconds);        // bytes read + written per second

// per-ISA loops: `iters` rounds of 12 independent chains on each thread; return a value that
// depends on every result so the compiler keeps the work
template <class V, class Step>
inline void run_chains(V (&acc)[12], long iters, Step step) {
  for (long i = 0; i < iters; ++i)
    for (int u = 0; u < 12; ++u) acc[u] = step(acc[u]);
}
// the sum of every lane of every chain (through memory: GCC 12's reduce intrinsics trip -Wuninitialized)
template <class Lane, class V>
inline Lane sum_chains(const V (&acc)[12]) {
  constexpr int kLanes = sizeof(V) / sizeof(Lane);
  alignas(64) Lane lanes[kLanes];
  Lane s = 0;
  for (int u = 0; u < 12; ++u) {
    __builtin_memcpy(lanes, &acc[u], sizeof(V));
    for (int l = 0; l < kLanes; ++l) s += lanes[l];
  }
  return s;
}
float fma_avx512(long iters);
float fma_avx2(long iters);
float dpbf16_avx512(long iters);
int dpbusd_avx512(long iters);

}  // namespace tf::ceiling
