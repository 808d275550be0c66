// Reference elementwise kernels: one flat loop over the output, every operand addressed through its
// strides, arithmetic in double. The oracle for cpu/elementwise.cpp; never optimised.
#include "tensorforge/iter.h"
#include "tensorforge/scalar_math.h"

namespace tf::ref {
namespace {

template <class F>
void map1(OpCall& c, F f) {
  const View& o = c.out[0];
  View x = broadcast_view(c.in[0], spec_of(o));
  for (int64_t i = 0; i < o.numel(); ++i) o.set(o.offset_of(i), f(x.get(x.offset_of(i))));
}
template <class F>
void map2(OpCall& c, F f) {
  const View& o = c.out[0];
  View a = broadcast_view(c.in[0], spec_of(o)), b = broadcast_view(c.in[1], spec_of(o));
  for (int64_t i = 0; i < o.numel(); ++i) o.set(o.offset_of(i), f(a.get(a.offset_of(i)), b.get(b.offset_of(i))));
}

#define TF_UNARY(n) \
  void k_##n(OpCall& c) { map1(c, [](double x) { return sm::n(x); }); }
#define TF_BINARY(n) \
  void k_##n(OpCall& c) { map2(c, [](double a, double b) { return sm::n(a, b); }); }
#define TF_COMPARE(n) \
  void k_##n(OpCall& c) { map2(c, [](double a, double b) { return sm::n(a, b) ? 1.0 : 0.0; }); }
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP

void k_copy(OpCall& c) { map1(c, [](double x) { return x; }); }
void k_fill(OpCall& c) {
  const View& o = c.out[0];
  for (int64_t i = 0; i < o.numel(); ++i) o.set(o.offset_of(i), c.attrs[0]);
}
void k_clamp(OpCall& c) {
  double lo = c.attrs[0], hi = c.attrs[1];
  map1(c, [=](double x) { return x != x ? x : (x < lo ? lo : (x > hi ? hi : x)); });
}
void k_clamp_backward(OpCall& c) {
  double lo = c.attrs[0], hi = c.attrs[1];
  map2(c, [=](double x, double g) { return (x >= lo && x <= hi) ? g : 0.0; });
}
void k_where(OpCall& c) {
  const View& o = c.out[0];
  OutSpec s = spec_of(o);
  View m = broadcast_view(c.in[0], s), a = broadcast_view(c.in[1], s), b = broadcast_view(c.in[2], s);
  for (int64_t i = 0; i < o.numel(); ++i)
    o.set(o.offset_of(i), m.get(m.offset_of(i)) != 0 ? a.get(a.offset_of(i)) : b.get(b.offset_of(i)));
}
void k_masked_fill(OpCall& c) {
  double v = c.attrs[0];
  map2(c, [=](double x, double m) { return m != 0 ? v : x; });
}

#define TF_UNARY(n) TF_REGISTER_KERNEL(ref, n, k_##n);
#define TF_BINARY(n) TF_REGISTER_KERNEL(ref, n, k_##n);
#define TF_COMPARE(n) TF_REGISTER_KERNEL(ref, n, k_##n);
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP
TF_REGISTER_KERNEL(ref, copy, k_copy);
TF_REGISTER_KERNEL(ref, fill, k_fill);
TF_REGISTER_KERNEL(ref, clamp, k_clamp);
TF_REGISTER_KERNEL(ref, clamp_backward, k_clamp_backward);
TF_REGISTER_KERNEL(ref, where, k_where);
TF_REGISTER_KERNEL(ref, masked_fill, k_masked_fill);

}  // namespace
}  // namespace tf::ref
