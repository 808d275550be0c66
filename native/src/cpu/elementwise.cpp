// CPU elementwise kernels: dims coalesced, OpenMP over runs (or over chunks of one long run), a
// typed float32 fast path, everything else through per-dtype loads in float (double for integers).
// Ops with a vectorised loop for the active ISA (loops.h) use it on unit-stride runs.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include "loops.h"
#include "tensorforge/convert.h"
#include "tensorforge/iter.h"
#include "tensorforge/parallel.h"
#include "tensorforge/scalar_math.h"

namespace tf::cpu {
namespace {

template <size_t N, class Fn>
void for_runs_parallel(const std::array<const View*, N>& views, Fn&& fn) {
  Coalesced<N> c = coalesce(views);
  int64_t outer = outer_count(c), inner = c.shape[c.rank - 1];
  if (outer == 1) {  // one run: split it
    int64_t strides[N];
    for (size_t k = 0; k < N; ++k) strides[k] = c.strides[k][c.rank - 1];
    parallel_for(inner, 1, [&](int64_t b, int64_t e) {
      int64_t off[N];
      for (size_t k = 0; k < N; ++k) off[k] = b * strides[k];
      fn(off, e - b, strides);
    });
    return;
  }
  parallel_for(outer, inner, [&](int64_t b, int64_t e) { for_each_run(c, b, e, fn); });
}

template <class T> inline T ld(const View& v, int64_t off) { return static_cast<T>(v.get(off)); }
template <> inline float ld<float>(const View& v, int64_t off) {
  switch (v.dtype) {
    case DType::f32: return v.ptr<float>()[off];
    case DType::bf16: return bf16_to_f32(v.ptr<uint16_t>()[off]);
    case DType::f16: return f16_to_f32(v.ptr<uint16_t>()[off]);
    default: return static_cast<float>(v.get(off));
  }
}
template <class T> inline void st(const View& v, int64_t off, T x) {
  if (v.dtype == DType::f32) v.ptr<float>()[off] = static_cast<float>(x);
  else v.set(off, static_cast<double>(x));
}

// A loop over contiguous float32 runs: (in..., out, n); null when the op has none.
template <size_t NI>
using VecFn = std::conditional_t<NI == 1, void (*)(const float*, float*, int64_t), void (*)(const float*, const float*, float*, int64_t)>;

template <size_t NI>
inline void call_vec(VecFn<NI> vf, const float* const* x, float* y, int64_t n) {
  if constexpr (NI == 1) vf(x[0], y, n);
  else vf(x[0], x[1], y, n);
}

// out = f(in...), with T the compute type (float for float dtypes, double otherwise)
template <class T, size_t NI, class F>
void map(OpCall& c, F f, VecFn<(NI < 3 ? NI : 2)> vf = nullptr) {
  const View& o = c.out[0];
  OutSpec s = spec_of(o);
  View ins[NI];
  for (size_t k = 0; k < NI; ++k) ins[k] = broadcast_view(c.in[k], s);
  std::array<const View*, NI + 1> views;
  views[0] = &o;
  for (size_t k = 0; k < NI; ++k) views[k + 1] = &ins[k];
  bool all_f32 = o.dtype == DType::f32, all_float = is_float(o.dtype);
  for (size_t k = 0; k < NI; ++k) {
    all_f32 = all_f32 && ins[k].dtype == DType::f32;
    all_float = all_float && is_float(ins[k].dtype);
  }
  for_runs_parallel(views, [&](const int64_t* off, int64_t n, const int64_t* st_) {
    bool unit = st_[0] == 1;
    for (size_t k = 0; k < NI; ++k) unit = unit && (st_[k + 1] == 1 || st_[k + 1] == 0);
    if (!all_f32 && all_float && unit && std::is_same<T, float>::value) {
      // mixed 16/32-bit floats: convert chunks to float32, compute, convert back
      constexpr int64_t kChunk = 256;
      float buf[NI][kChunk], y[kChunk];
      for (int64_t i0 = 0; i0 < n; i0 += kChunk) {
        int64_t m = std::min(kChunk, n - i0);
        for (size_t k = 0; k < NI; ++k) {
          if (st_[k + 1] == 0) std::fill(buf[k], buf[k] + m, ld<float>(ins[k], off[k + 1]));
          else load_floats(ins[k].at(off[k + 1] + i0), ins[k].dtype, m, buf[k]);
        }
        if constexpr (NI < 3) {
          if (vf) {
            const float* xs[NI];
            for (size_t k = 0; k < NI; ++k) xs[k] = buf[k];
            call_vec<NI>(vf, xs, y, m);
            store_floats(y, m, o.at(off[0] + i0), o.dtype);
            continue;
          }
        }
        for (int64_t i = 0; i < m; ++i) {
          if constexpr (NI == 1) y[i] = static_cast<float>(f(buf[0][i]));
          else if constexpr (NI == 2) y[i] = static_cast<float>(f(buf[0][i], buf[1][i]));
          else y[i] = static_cast<float>(f(buf[0][i], buf[1][i], buf[2][i]));
        }
        store_floats(y, m, o.at(off[0] + i0), o.dtype);
      }
      return;
    }
    if (all_f32) {
      float* y = o.ptr<float>() + off[0];
      const float* x[NI];
      for (size_t k = 0; k < NI; ++k) x[k] = ins[k].template ptr<float>() + off[k + 1];
      bool dense = st_[0] == 1;
      for (size_t k = 0; k < NI; ++k) dense = dense && st_[k + 1] == 1;
      if constexpr (NI < 3) {
        if (dense && vf) return call_vec<NI>(vf, x, y, n);
      }
      if (dense) {
        if constexpr (NI == 1) for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(f(x[0][i]));
        else if constexpr (NI == 2) for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(f(x[0][i], x[1][i]));
        else for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(f(x[0][i], x[1][i], x[2][i]));
        return;
      }
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (NI == 1) y[i * st_[0]] = static_cast<float>(f(x[0][i * st_[1]]));
        else if constexpr (NI == 2) y[i * st_[0]] = static_cast<float>(f(x[0][i * st_[1]], x[1][i * st_[2]]));
        else y[i * st_[0]] = static_cast<float>(f(x[0][i * st_[1]], x[1][i * st_[2]], x[2][i * st_[3]]));
      }
      return;
    }
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (NI == 1) st<T>(o, off[0] + i * st_[0], f(ld<T>(ins[0], off[1] + i * st_[1])));
      else if constexpr (NI == 2)
        st<T>(o, off[0] + i * st_[0], f(ld<T>(ins[0], off[1] + i * st_[1]), ld<T>(ins[1], off[2] + i * st_[2])));
      else
        st<T>(o, off[0] + i * st_[0],
              f(ld<T>(ins[0], off[1] + i * st_[1]), ld<T>(ins[1], off[2] + i * st_[2]), ld<T>(ins[2], off[3] + i * st_[3])));
    }
  });
}

// dispatch on the compute type: float for float inputs, double for integer inputs
template <size_t NI, class FF, class FD>
void map_any(OpCall& c, DType in_dtype, FF ff, FD fd, VecFn<NI> vf = nullptr) {
  if (is_float(in_dtype)) map<float, NI>(c, ff, vf);
  else map<double, NI>(c, fd);
}

// the vectorised loop of an op, if it has one
VecFn<1> vec_unary(Op op) { return op == Op::gelu ? loops().gelu : nullptr; }
VecFn<2> vec_binary(Op op) { return op == Op::gelu_backward ? loops().gelu_backward : nullptr; }

#define TF_UNARY(n)                                                                                              \
  void k_##n(OpCall& c) {                                                                                        \
    map_any<1>(c, c.in[0].dtype, [](float x) { return sm::n(x); }, [](double x) { return sm::n(x); }, vec_unary(Op::n)); \
  }
#define TF_BINARY(n)                                                                                              \
  void k_##n(OpCall& c) {                                                                                         \
    map_any<2>(c, c.in[0].dtype, [](float a, float b) { return sm::n(a, b); }, [](double a, double b) { return sm::n(a, b); }, \
               vec_binary(Op::n));                                                                                \
  }
#define TF_COMPARE(n)                                                                              \
  void k_##n(OpCall& c) {                                                                          \
    map_any<2>(c, c.in[0].dtype, [](float a, float b) { return sm::n(a, b) ? 1.0f : 0.0f; },      \
               [](double a, double b) { return sm::n(a, b) ? 1.0 : 0.0; });                       \
  }
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP

// A copy or cast between float dtypes (or int8 to float32) over unit-stride runs: copied as bytes
// when the dtypes agree, converted straight from source to destination when either side is
// float32 (bfloat16 through load_floats/store_floats, in the active ISA's vector loop), else
// through float32.
bool convert_runs(OpCall& c) {
  const View &x = c.in[0], &o = c.out[0];
  const bool from_int8 = x.dtype == DType::i8 && o.dtype == DType::f32;  // quantised tables read as float
  if ((!is_float(x.dtype) && !from_int8) || !is_float(o.dtype) || x.rank != o.rank) return false;
  for (int d = 0; d < x.rank; ++d)
    if (x.shape[d] != o.shape[d]) return false;  // a broadcast source goes through map
  const Coalesced<2> runs = coalesce<2>({&o, &x});
  if (runs.strides[0][runs.rank - 1] != 1 || runs.strides[1][runs.rank - 1] != 1) return false;
  const size_t width = static_cast<size_t>(dtype_size(x.dtype));
  for_runs_parallel<2>({&o, &x}, [&](const int64_t* off, int64_t n, const int64_t*) {
    if (x.dtype == o.dtype) return void(std::memcpy(o.at(off[0]), x.at(off[1]), static_cast<size_t>(n) * width));
    if (from_int8) {
      const int8_t* s = x.ptr<int8_t>() + off[1];
      float* d = o.ptr<float>() + off[0];
      for (int64_t i = 0; i < n; ++i) d[i] = static_cast<float>(s[i]);
      return;
    }
    if (x.dtype == DType::f32) return store_floats(x.ptr<float>() + off[1], n, o.at(off[0]), o.dtype);
    if (o.dtype == DType::f32) return load_floats(x.at(off[1]), x.dtype, n, o.ptr<float>() + off[0]);
    constexpr int64_t kChunk = 512;
    float buf[kChunk];
    for (int64_t i = 0; i < n; i += kChunk) {
      const int64_t m = std::min(kChunk, n - i);
      load_floats(x.at(off[1] + i), x.dtype, m, buf);
      store_floats(buf, m, o.at(off[0] + i), o.dtype);
    }
  });
  return true;
}

void k_copy(OpCall& c) {
  if (convert_runs(c)) return;
  // integer <-> integer and anything -> double-precision path keeps int32 exact
  if (is_float(c.in[0].dtype) && is_float(c.out[0].dtype)) map<float, 1>(c, [](float x) { return x; });
  else map<double, 1>(c, [](double x) { return x; });
}
void k_fill(OpCall& c) {
  OpCall g{c.op, {}, {c.out[0]}, {}};
  double v = c.attrs[0];
  View dummy = c.out[0];  // iterate over the output only: fill through a one-input map of itself
  g.in.push_back(dummy);
  if (is_float(c.out[0].dtype)) map<float, 1>(g, [v](float) { return static_cast<float>(v); });
  else map<double, 1>(g, [v](double) { return v; });
}
void k_clamp(OpCall& c) {
  float lo = static_cast<float>(c.attrs[0]), hi = static_cast<float>(c.attrs[1]);
  map<float, 1>(c, [=](float x) { return x != x ? x : (x < lo ? lo : (x > hi ? hi : x)); });
}
void k_clamp_backward(OpCall& c) {
  float lo = static_cast<float>(c.attrs[0]), hi = static_cast<float>(c.attrs[1]);
  map<float, 2>(c, [=](float x, float g) { return (x >= lo && x <= hi) ? g : 0.0f; });
}
void k_where(OpCall& c) {
  auto ff = [](float m, float a, float b) { return m != 0 ? a : b; };
  auto fd = [](double m, double a, double b) { return m != 0 ? a : b; };
  if (is_float(c.in[1].dtype)) map<float, 3>(c, ff);
  else map<double, 3>(c, fd);
}
void k_masked_fill(OpCall& c) {
  double v = c.attrs[0];
  if (is_float(c.in[0].dtype)) map<float, 2>(c, [v](float x, float m) { return m != 0 ? static_cast<float>(v) : x; });
  else map<double, 2>(c, [v](double x, double m) { return m != 0 ? v : x; });
}

#define TF_UNARY(n) TF_REGISTER_KERNEL(cpu, n, k_##n);
#define TF_BINARY(n) TF_REGISTER_KERNEL(cpu, n, k_##n);
#define TF_COMPARE(n) TF_REGISTER_KERNEL(cpu, n, k_##n);
#define TF_OP(n)
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP
TF_REGISTER_KERNEL(cpu, copy, k_copy);
TF_REGISTER_KERNEL(cpu, fill, k_fill);
TF_REGISTER_KERNEL(cpu, clamp, k_clamp);
TF_REGISTER_KERNEL(cpu, clamp_backward, k_clamp_backward);
TF_REGISTER_KERNEL(cpu, where, k_where);
TF_REGISTER_KERNEL(cpu, masked_fill, k_masked_fill);

}  // namespace
}  // namespace tf::cpu
