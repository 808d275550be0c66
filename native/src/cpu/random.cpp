// CPU Philox ops: the same stream as the reference (element i takes stream element i), split
// across threads by index, so the result does not depend on the thread count.
#include <algorithm>
#include "loops.h"
#include "tensorforge/convert.h"
#include "tensorforge/op.h"
#include "tensorforge/parallel.h"
#include "tensorforge/philox.h"

namespace tf::cpu {
namespace {

uint64_t u64(double v) { return static_cast<uint64_t>(v); }

template <class F>
void fill(const View& o, F f) {
  bool fast = o.dtype == DType::f32 && o.contiguous();
  parallel_for(o.numel(), 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      float v = f(static_cast<uint64_t>(i));
      if (fast) o.ptr<float>()[i] = v;
      else o.set(o.offset_of(i), v);
    }
  });
}

void k_rand_uniform(OpCall& c) {
  uint64_t seed = u64(c.attrs[0]), off = u64(c.attrs[1]);
  float lo = static_cast<float>(c.attrs[2]), span = static_cast<float>(c.attrs[3] - c.attrs[2]);
  fill(c.out[0], [=](uint64_t i) { return lo + span * philox_uniform(seed, off, i); });
}
void k_rand_normal(OpCall& c) {
  uint64_t seed = u64(c.attrs[0]), off = u64(c.attrs[1]);
  float mean = static_cast<float>(c.attrs[2]), sd = static_cast<float>(c.attrs[3]);
  fill(c.out[0], [=](uint64_t i) { return mean + sd * philox_normal(seed, off, i); });
}
// Stream words for elements [b, e): one Philox block serves four consecutive elements.
template <class F>
void each_word(uint64_t seed, uint64_t off, int64_t b, int64_t e, F f) {
  int64_t i = b;
  while (i < e) {
    uint64_t idx = off + static_cast<uint64_t>(i);
    Philox4 blk = philox4x32_10(idx >> 2, seed);
    for (unsigned w = idx & 3; w < 4 && i < e; ++w, ++i) f(i, blk.v[w]);
  }
}

// out[i] = mask[i] ? in[i] * scale : 0 for i in [b, e): contiguous float views of any float dtype
// (16-bit ones through a float buffer), in the active ISA's vector loop
void apply_mask(const View& in, const uint8_t* mask, float scale, const View& out, int64_t b, int64_t e) {
  const auto apply = loops().dropout_apply;
  if (in.dtype == DType::f32 && out.dtype == DType::f32)
    return apply(static_cast<const float*>(in.at(b)), mask + b, scale, static_cast<float*>(out.at(b)), e - b);
  constexpr int64_t kChunk = 512;
  float buf[kChunk];
  for (int64_t i0 = b; i0 < e; i0 += kChunk) {
    int64_t n = std::min(kChunk, e - i0);
    load_floats(in.at(i0), in.dtype, n, buf);
    apply(buf, mask + i0, scale, buf, n);
    store_floats(buf, n, out.at(i0), out.dtype);
  }
}

void k_dropout(OpCall& c) {
  const View &x = c.in[0], &y = c.out[0], &m = c.out[1];
  float p = static_cast<float>(c.attrs[0]), scale = static_cast<float>(1.0 / (1.0 - c.attrs[0]));
  uint64_t seed = u64(c.attrs[1]), off = u64(c.attrs[2]);
  bool fast = x.contiguous() && y.contiguous() && is_float(x.dtype);
  const auto keep = loops().dropout_keep;
  parallel_for(x.numel(), 16, [&](int64_t b, int64_t e) {
    uint8_t* mask = m.ptr<uint8_t>();
    // whole Philox blocks through the vector loop, the partial blocks at either end word by word
    const auto word = [&](int64_t i, uint32_t w) { mask[i] = static_cast<float>(w >> 8) * (1.0f / 16777216.0f) >= p; };
    const int64_t first = std::min(e, b + static_cast<int64_t>((4 - (off + static_cast<uint64_t>(b)) % 4) % 4));
    each_word(seed, off, b, first, word);
    const int64_t blocks = (e - first) / 4;
    if (blocks > 0) keep(seed, (off + static_cast<uint64_t>(first)) / 4, blocks, p, mask + first);
    each_word(seed, off, first + 4 * blocks, e, word);
    if (fast) return apply_mask(x, mask, scale, y, b, e);
    for (int64_t i = b; i < e; ++i) y.set(y.offset_of(i), mask[i] ? static_cast<float>(x.get(x.offset_of(i))) * scale : 0.0f);
  });
}
void k_dropout_backward(OpCall& c) {
  const View &g = c.in[0], &m = c.in[1], &o = c.out[0];
  float scale = static_cast<float>(1.0 / (1.0 - c.attrs[0]));
  bool fast = g.contiguous() && m.contiguous() && o.contiguous() && is_float(g.dtype);
  parallel_for(g.numel(), 4, [&](int64_t b, int64_t e) {
    if (fast) return apply_mask(g, m.ptr<uint8_t>(), scale, o, b, e);
    for (int64_t i = b; i < e; ++i)
      o.set(o.offset_of(i), m.get(m.offset_of(i)) != 0 ? static_cast<float>(g.get(g.offset_of(i))) * scale : 0.0f);
  });
}

TF_REGISTER_KERNEL(cpu, rand_uniform, k_rand_uniform);
TF_REGISTER_KERNEL(cpu, rand_normal, k_rand_normal);
TF_REGISTER_KERNEL(cpu, dropout, k_dropout);
TF_REGISTER_KERNEL(cpu, dropout_backward, k_dropout_backward);

}  // namespace
}  // namespace tf::cpu
