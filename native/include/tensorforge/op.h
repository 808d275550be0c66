// The op registry: ids from ops.def, one OpCall shape for every kernel, one kernel table per backend.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>
#include "tensorforge/view.h"

namespace tf {

enum class Op : int {
#define TF_UNARY(n) n,
#define TF_BINARY(n) n,
#define TF_COMPARE(n) n,
#define TF_OP(n) n,
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP
  count_
};
constexpr int kNumOps = static_cast<int>(Op::count_);

enum class OpKind : int { unary, binary, compare, other };
const char* op_name(Op op);
OpKind op_kind(Op op);
int op_from_name(const std::string& name);  // -1 when unknown

enum class Backend : int { cpu = 0, ref = 1, cuda = 2 };
constexpr int kNumBackends = 3;
const char* backend_name(Backend b);

// An output the caller wants: shape and dtype, decided by the op's infer function.
struct OutSpec {
  DType dtype = DType::f32;
  int rank = 0;
  int64_t shape[kMaxRank] = {0};
};

struct OpCall {
  Op op;
  std::vector<View> in;
  std::vector<View> out;
  std::vector<double> attrs;
  bool on_device = false;  // views point at CUDA device memory (shape checks then copy index values to the host)
};

// Thrown for bad input; the binding turns it into a JS Error whose message starts with the op name.
struct OpError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// The optional inputs after the fixed ones of linear (first = 2) and linear_int8 (first = 3): a
// bias, then a residual, the last input, when attribute `attr` is 1; null where absent. Every
// backend and the op's checks read them through this one rule.
struct LinearTail {
  const View* bias = nullptr;
  const View* residual = nullptr;
};
inline LinearTail linear_tail(const OpCall& c, size_t first, size_t attr) {
  LinearTail t;
  const bool residual = c.attrs.size() > attr && c.attrs[attr] == 1;
  if (residual) t.residual = &c.in.back();
  if (c.in.size() > first + (residual ? 1 : 0)) t.bias = &c.in[first];
  return t;
}

using InferFn = void (*)(const OpCall&, std::vector<OutSpec>&);
using KernelFn = void (*)(OpCall&);

// Validates inputs and attrs of a call and fills the output specs (throws OpError).
void infer(const OpCall& call, std::vector<OutSpec>& outs);
// Checks caller-provided outputs against the specs (for in-place and into-view writes).
void check_outputs(const OpCall& call, const std::vector<OutSpec>& outs);

KernelFn kernel(Backend b, Op op);  // nullptr when the backend has none
bool supports(Backend b, Op op);
void run(Backend b, OpCall& call);  // throws when unsupported

struct KernelRegistrar {
  KernelRegistrar(Backend b, Op op, KernelFn fn);
};
struct InferRegistrar {
  InferRegistrar(Op op, InferFn fn);
};

#define TF_CAT2(a, b) a##b
#define TF_CAT(a, b) TF_CAT2(a, b)
#define TF_REGISTER_KERNEL(backend, op, fn) \
  static ::tf::KernelRegistrar TF_CAT(tf_kernel_, __COUNTER__)(::tf::Backend::backend, ::tf::Op::op, fn)
#define TF_REGISTER_INFER(op, fn) static ::tf::InferRegistrar TF_CAT(tf_infer_, __COUNTER__)(::tf::Op::op, fn)

// Helpers for infer functions and error messages.
std::string shape_str(const View& v);
std::string shape_str(const OutSpec& s);
[[noreturn]] void fail(const OpCall& call, const std::string& what);
void expect_inputs(const OpCall& call, size_t lo, size_t hi);
void expect_attrs(const OpCall& call, size_t lo, size_t hi);
void expect_float(const OpCall& call, size_t i, const char* name);
void expect_dtype(const OpCall& call, size_t i, DType d, const char* name);
void expect_rank(const OpCall& call, size_t i, int lo, int hi, const char* name);
void expect_vector(const OpCall& call, size_t i, int64_t n, const char* name);  // float32 [n]
// input i is a residual added to an output of spec `out`: a float tensor of its shape
void expect_residual(const OpCall& call, size_t i, const OutSpec& out);
int64_t attr_int(const OpCall& call, size_t i, const char* name, int64_t lo, int64_t hi);
// Input i readable on the host: the view itself, or (for a call on device memory) the same view over
// a host copy of the span it covers, kept in `staging`. Index checks read values through it.
View host_view(const OpCall& call, size_t i, std::vector<char>& staging);
OutSpec spec_of(const View& v);
OutSpec spec_of(const View& v, DType d);

}  // namespace tf
