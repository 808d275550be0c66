// CPU Philox ops: the same stream as the reference (element i takes stream element i), split
// across threads by index, so the result does not depend on the thread count.
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
void k_dropout(OpCall& c) {
  const View &x = c.in[0], &y = c.out[0], &m = c.out[1];
  float p = static_cast<float>(c.attrs[0]), scale = static_cast<float>(1.0 / (1.0 - c.attrs[0]));
  uint64_t seed = u64(c.attrs[1]), off = u64(c.attrs[2]);
  bool fast = x.dtype == DType::f32 && x.contiguous() && y.contiguous();
  parallel_for(x.numel(), 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      bool keep = philox_uniform(seed, off, static_cast<uint64_t>(i)) >= p;
      m.ptr<uint8_t>()[i] = keep;
      if (fast) y.ptr<float>()[i] = keep ? x.ptr<float>()[i] * scale : 0.0f;
      else y.set(y.offset_of(i), keep ? static_cast<float>(x.get(x.offset_of(i))) * scale : 0.0f);
    }
  });
}
void k_dropout_backward(OpCall& c) {
  const View &g = c.in[0], &m = c.in[1], &o = c.out[0];
  float scale = static_cast<float>(1.0 / (1.0 - c.attrs[0]));
  parallel_for(g.numel(), 4, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      bool keep = m.get(m.offset_of(i)) != 0;
      o.set(o.offset_of(i), keep ? static_cast<float>(g.get(g.offset_of(i))) * scale : 0.0f);
    }
  });
}

TF_REGISTER_KERNEL(cpu, rand_uniform, k_rand_uniform);
TF_REGISTER_KERNEL(cpu, rand_normal, k_rand_normal);
TF_REGISTER_KERNEL(cpu, dropout, k_dropout);
TF_REGISTER_KERNEL(cpu, dropout_backward, k_dropout_backward);

}  // namespace
}  // namespace tf::cpu
