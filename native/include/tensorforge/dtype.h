// Storage dtypes and the conversions between them. Arithmetic always happens in float32 (or
// double for integers); float16/bfloat16 are storage formats rounded to nearest even on store.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tf {

enum class DType : int { f32 = 0, f16 = 1, bf16 = 2, i32 = 3, i8 = 4, u8 = 5 };
constexpr int kNumDTypes = 6;

inline int dtype_size(DType d) {
  switch (d) {
    case DType::f32: case DType::i32: return 4;
    case DType::f16: case DType::bf16: return 2;
    default: return 1;
  }
}
inline const char* dtype_name(DType d) {
  static const char* names[] = {"float32", "float16", "bfloat16", "int32", "int8", "uint8"};
  return names[static_cast<int>(d)];
}
inline bool is_float(DType d) { return d == DType::f32 || d == DType::f16 || d == DType::bf16; }

inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// round to nearest even; a NaN stays a (quiet) NaN. No early return, so loops over it vectorise.
inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f), rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>((u & 0x7fffffffu) > 0x7f800000u ? (u >> 16) | 0x40u : rounded);
}
inline float bf16_to_f32(uint16_t h) { return bits_f32(static_cast<uint32_t>(h) << 16); }

inline uint16_t f32_to_f16(float f) {
  uint32_t u = f32_bits(f);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);  // NaN
  if (a >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // overflow after rounding -> inf
  if (a < 0x38800000u) {  // subnormal or zero in half: scale by 2^24 and round to an integer
    float sub = bits_f32(a) * 16777216.0f;  // exact
    uint32_t m = static_cast<uint32_t>(std::nearbyint(sub));  // default rounding mode: nearest even
    return static_cast<uint16_t>(sign | m);
  }
  uint32_t mant_odd = (a >> 13) & 1u;
  a += 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round to nearest even
  return static_cast<uint16_t>(sign | (a >> 13));
}
inline float f16_to_f32(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    float v = static_cast<float>(mant) * (1.0f / 16777216.0f);
    return sign ? -v : v;
  }
  if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13));
  return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

// Load any dtype as double / store a double into any dtype (integers saturate, floats round).
inline double load_as_double(const void* p, DType d) {
  switch (d) {
    case DType::f32: return *static_cast<const float*>(p);
    case DType::f16: return f16_to_f32(*static_cast<const uint16_t*>(p));
    case DType::bf16: return bf16_to_f32(*static_cast<const uint16_t*>(p));
    case DType::i32: return *static_cast<const int32_t*>(p);
    case DType::i8: return *static_cast<const int8_t*>(p);
    default: return *static_cast<const uint8_t*>(p);
  }
}
template <class I>
inline I saturate(double v, double lo, double hi) {
  if (std::isnan(v)) return 0;
  v = std::trunc(v);
  return static_cast<I>(v < lo ? lo : (v > hi ? hi : v));
}
inline void store_double(void* p, DType d, double v) {
  switch (d) {
    case DType::f32: *static_cast<float*>(p) = static_cast<float>(v); break;
    case DType::f16: *static_cast<uint16_t*>(p) = f32_to_f16(static_cast<float>(v)); break;
    case DType::bf16: *static_cast<uint16_t*>(p) = f32_to_bf16(static_cast<float>(v)); break;
    case DType::i32: *static_cast<int32_t*>(p) = saturate<int32_t>(v, -2147483648.0, 2147483647.0); break;
    case DType::i8: *static_cast<int8_t*>(p) = saturate<int8_t>(v, -128, 127); break;
    default: *static_cast<uint8_t*>(p) = saturate<uint8_t>(v, 0, 255); break;
  }
}

}  // namespace tf
