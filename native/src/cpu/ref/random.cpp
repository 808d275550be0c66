// Reference Philox ops: element i of the output takes stream element i (normal: 2i and 2i+1).
#include "tensorforge/op.h"
#include "tensorforge/philox.h"

namespace tf::ref {
namespace {

uint64_t u64(double v) { return static_cast<uint64_t>(v); }

void k_rand_uniform(OpCall& c) {
  const View& o = c.out[0];
  double lo = c.attrs[2], hi = c.attrs[3];
  for (int64_t i = 0; i < o.numel(); ++i)
    o.set(o.offset_of(i), lo + (hi - lo) * philox_uniform(u64(c.attrs[0]), u64(c.attrs[1]), static_cast<uint64_t>(i)));
}
void k_rand_normal(OpCall& c) {
  const View& o = c.out[0];
  for (int64_t i = 0; i < o.numel(); ++i)
    o.set(o.offset_of(i), c.attrs[2] + c.attrs[3] * philox_normal(u64(c.attrs[0]), u64(c.attrs[1]), static_cast<uint64_t>(i)));
}
void k_dropout(OpCall& c) {
  const View &x = c.in[0], &y = c.out[0], &m = c.out[1];
  double p = c.attrs[0], scale = 1.0 / (1.0 - p);
  for (int64_t i = 0; i < x.numel(); ++i) {
    bool keep = philox_uniform(u64(c.attrs[1]), u64(c.attrs[2]), static_cast<uint64_t>(i)) >= p;
    m.set(m.offset_of(i), keep ? 1 : 0);
    y.set(y.offset_of(i), keep ? x.get(x.offset_of(i)) * scale : 0.0);
  }
}
void k_dropout_backward(OpCall& c) {
  const View &g = c.in[0], &m = c.in[1], &o = c.out[0];
  double scale = 1.0 / (1.0 - c.attrs[0]);
  for (int64_t i = 0; i < g.numel(); ++i)
    o.set(o.offset_of(i), m.get(m.offset_of(i)) != 0 ? g.get(g.offset_of(i)) * scale : 0.0);
}

TF_REGISTER_KERNEL(ref, rand_uniform, k_rand_uniform);
TF_REGISTER_KERNEL(ref, rand_normal, k_rand_normal);
TF_REGISTER_KERNEL(ref, dropout, k_dropout);
TF_REGISTER_KERNEL(ref, dropout_backward, k_dropout_backward);

}  // namespace
}  // namespace tf::ref
