// Philox 4x32-10 (Salmon et al. 2011), counter-based: the i-th block of 4 words for (seed, offset)
// is a pure function, so CPU and CUDA produce the same stream and any element can be drawn alone.
#pragma once
#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define TF_HD __host__ __device__ inline
#else
#define TF_HD inline
#endif

namespace tf {

struct Philox4 {
  uint32_t v[4];
};

TF_HD Philox4 philox4x32_10(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int r = 0; r < 10; ++r) {
    uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * c0;
    uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * c2;
    uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0;
    uint32_t n1 = static_cast<uint32_t>(p1);
    uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    uint32_t n3 = static_cast<uint32_t>(p0);
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// Element i of the stream (seed, offset) as a uint32: block (offset + i) / 4, word (offset + i) % 4.
TF_HD uint32_t philox_u32(uint64_t seed, uint64_t offset, uint64_t i) {
  uint64_t idx = offset + i;
  return philox4x32_10(idx >> 2, seed).v[idx & 3];
}
// Uniform in [0, 1) with 24 random bits.
TF_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t i) {
  return static_cast<float>(philox_u32(seed, offset, i) >> 8) * (1.0f / 16777216.0f);
}
// Standard normal from two stream elements (Box-Muller): element i uses words 2i and 2i+1.
TF_HD float philox_normal(uint64_t seed, uint64_t offset, uint64_t i) {
  float u1 = (static_cast<float>(philox_u32(seed, offset, 2 * i) >> 8) + 1.0f) * (1.0f / 16777216.0f);
  float u2 = static_cast<float>(philox_u32(seed, offset, 2 * i + 1) >> 8) * (1.0f / 16777216.0f);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853071795864f * u2);
}

}  // namespace tf
