// The scalar formula of every elementwise op, shared by the reference and the CPU kernels (and
// usable from CUDA), so an elementwise kernel differs from its reference only in how it iterates.
#pragma once
#include <cmath>

#if defined(__CUDACC__)
#define TF_SM __host__ __device__ inline
#else
#define TF_SM inline
#endif

namespace tf::sm {

constexpr float kSqrt1_2 = 0.70710678118654752f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kGeluTanhC = 0.044715f;

template <class T> TF_SM T neg(T x) { return -x; }
template <class T> TF_SM T abs(T x) { return x < 0 ? -x : x; }
template <class T> TF_SM T exp(T x) { return std::exp(x); }
template <class T> TF_SM T log(T x) { return std::log(x); }
template <class T> TF_SM T sqrt(T x) { return std::sqrt(x); }
template <class T> TF_SM T rsqrt(T x) { return T(1) / std::sqrt(x); }
template <class T> TF_SM T relu(T x) { return x != x ? x : (x > 0 ? x : T(0)); }  // NaN stays NaN, as in PyTorch
template <class T> TF_SM T gelu(T x) { return T(0.5) * x * (T(1) + std::erf(x * T(kSqrt1_2))); }
// linear_int8's epilogue activation by its code (qgemm::Act): 0 none, 1 relu, 2 gelu
template <class T> TF_SM T activation(T x, int act) { return act == 1 ? relu(x) : act == 2 ? gelu(x) : x; }
template <class T> TF_SM T gelu_tanh(T x) {
  return T(0.5) * x * (T(1) + std::tanh(T(kSqrt2OverPi) * (x + T(kGeluTanhC) * x * x * x)));
}
template <class T> TF_SM T tanh(T x) { return std::tanh(x); }
template <class T> TF_SM T sigmoid(T x) { return T(1) / (T(1) + std::exp(-x)); }
template <class T> TF_SM T sign(T x) { return x > 0 ? T(1) : (x < 0 ? T(-1) : x); }

template <class T> TF_SM T add(T a, T b) { return a + b; }
template <class T> TF_SM T sub(T a, T b) { return a - b; }
template <class T> TF_SM T mul(T a, T b) { return a * b; }
template <class T> TF_SM T div(T a, T b) { return a / b; }
template <class T> TF_SM T pow(T a, T b) { return std::pow(a, b); }
// NaN propagates as in torch.maximum/minimum
template <class T> TF_SM T maximum(T a, T b) { return (a != a || b != b) ? a + b : (a > b ? a : b); }
template <class T> TF_SM T minimum(T a, T b) { return (a != a || b != b) ? a + b : (a < b ? a : b); }
template <class T> TF_SM T relu_backward(T x, T gy) { return x > 0 ? gy : T(0); }
template <class T> TF_SM T gelu_backward(T x, T gy) {
  T cdf = T(0.5) * (T(1) + std::erf(x * T(kSqrt1_2)));
  T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
  return gy * (cdf + x * pdf);
}
template <class T> TF_SM T gelu_tanh_backward(T x, T gy) {
  T u = T(kSqrt2OverPi) * (x + T(kGeluTanhC) * x * x * x);
  T t = std::tanh(u);
  T du = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluTanhC) * x * x);
  return gy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * du);
}
template <class T> TF_SM T tanh_backward(T y, T gy) { return gy * (T(1) - y * y); }
template <class T> TF_SM T sigmoid_backward(T y, T gy) { return gy * y * (T(1) - y); }

template <class T> TF_SM bool eq(T a, T b) { return a == b; }
template <class T> TF_SM bool ne(T a, T b) { return a != b; }
template <class T> TF_SM bool lt(T a, T b) { return a < b; }
template <class T> TF_SM bool le(T a, T b) { return a <= b; }
template <class T> TF_SM bool gt(T a, T b) { return a > b; }
template <class T> TF_SM bool ge(T a, T b) { return a >= b; }

}  // namespace tf::sm
