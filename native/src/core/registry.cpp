// Op names, the per-backend kernel tables and the shared argument checks.
#include <cmath>
#include <sstream>
#include "tensorforge/cuda.h"
#include "tensorforge/op.h"

namespace tf {

namespace {
struct OpInfo {
  const char* name;
  OpKind kind;
};
const OpInfo kOps[] = {
#define TF_UNARY(n) {#n, OpKind::unary},
#define TF_BINARY(n) {#n, OpKind::binary},
#define TF_COMPARE(n) {#n, OpKind::compare},
#define TF_OP(n) {#n, OpKind::other},
#include "tensorforge/ops.def"
#undef TF_UNARY
#undef TF_BINARY
#undef TF_COMPARE
#undef TF_OP
};

KernelFn& kernel_slot(Backend b, Op op) {
  static KernelFn table[kNumBackends][kNumOps] = {};
  return table[static_cast<int>(b)][static_cast<int>(op)];
}
InferFn& infer_slot(Op op) {
  static InferFn table[kNumOps] = {};
  return table[static_cast<int>(op)];
}
}  // namespace

const char* op_name(Op op) { return kOps[static_cast<int>(op)].name; }
OpKind op_kind(Op op) { return kOps[static_cast<int>(op)].kind; }
int op_from_name(const std::string& name) {
  for (int i = 0; i < kNumOps; ++i)
    if (name == kOps[i].name) return i;
  return -1;
}
const char* backend_name(Backend b) {
  static const char* names[] = {"cpu", "ref", "cuda"};
  return names[static_cast<int>(b)];
}

KernelRegistrar::KernelRegistrar(Backend b, Op op, KernelFn fn) { kernel_slot(b, op) = fn; }
InferRegistrar::InferRegistrar(Op op, InferFn fn) { infer_slot(op) = fn; }

KernelFn kernel(Backend b, Op op) { return kernel_slot(b, op); }
bool supports(Backend b, Op op) { return kernel_slot(b, op) != nullptr; }

void run(Backend b, OpCall& call) {
  KernelFn fn = kernel(b, call.op);
  if (!fn) fail(call, std::string("not supported by the ") + backend_name(b) + " backend");
  // an op on empty tensors has nothing to compute, except where outputs still need a value
  fn(call);
}

void infer(const OpCall& call, std::vector<OutSpec>& outs) {
  InferFn fn = infer_slot(call.op);
  if (!fn) fail(call, "has no shape function");
  outs.clear();
  fn(call, outs);
}

void check_outputs(const OpCall& call, const std::vector<OutSpec>& outs) {
  if (call.out.size() != outs.size())
    fail(call, "expects " + std::to_string(outs.size()) + " outputs, got " + std::to_string(call.out.size()));
  for (size_t i = 0; i < outs.size(); ++i) {
    const View& v = call.out[i];
    bool same = v.rank == outs[i].rank && v.dtype == outs[i].dtype;
    for (int d = 0; same && d < v.rank; ++d) same = v.shape[d] == outs[i].shape[d];
    if (!same)
      fail(call, "output " + std::to_string(i) + " must be " + dtype_name(outs[i].dtype) + shape_str(outs[i]) +
                     ", got " + dtype_name(v.dtype) + shape_str(v));
  }
}

std::string shape_str(const View& v) {
  std::ostringstream s;
  s << "[";
  for (int i = 0; i < v.rank; ++i) s << (i ? "," : "") << v.shape[i];
  s << "]";
  return s.str();
}
std::string shape_str(const OutSpec& o) {
  View v;
  v.rank = o.rank;
  for (int i = 0; i < o.rank; ++i) v.shape[i] = o.shape[i];
  return shape_str(v);
}

void fail(const OpCall& call, const std::string& what) { throw OpError(std::string(op_name(call.op)) + ": " + what); }

void expect_inputs(const OpCall& call, size_t lo, size_t hi) {
  if (call.in.size() < lo || call.in.size() > hi)
    fail(call, "expects " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                   " input tensors, got " + std::to_string(call.in.size()));
}
void expect_attrs(const OpCall& call, size_t lo, size_t hi) {
  if (call.attrs.size() < lo || call.attrs.size() > hi)
    fail(call, "expects " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                   " attributes, got " + std::to_string(call.attrs.size()));
  for (size_t i = 0; i < call.attrs.size(); ++i)
    if (std::isnan(call.attrs[i])) fail(call, "attribute " + std::to_string(i) + " is NaN");
}
void expect_float(const OpCall& call, size_t i, const char* name) {
  if (!is_float(call.in[i].dtype))
    fail(call, std::string(name) + " must be a float tensor, got " + dtype_name(call.in[i].dtype) + shape_str(call.in[i]));
}
void expect_dtype(const OpCall& call, size_t i, DType d, const char* name) {
  if (call.in[i].dtype != d)
    fail(call, std::string(name) + " must be " + dtype_name(d) + ", got " + dtype_name(call.in[i].dtype) + shape_str(call.in[i]));
}
void expect_rank(const OpCall& call, size_t i, int lo, int hi, const char* name) {
  int r = call.in[i].rank;
  if (r < lo || r > hi)
    fail(call, std::string(name) + " must have rank " + (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
                   ", got " + shape_str(call.in[i]));
}
void expect_vector(const OpCall& call, size_t i, int64_t n, const char* name) {
  expect_dtype(call, i, DType::f32, name);
  if (call.in[i].rank != 1 || call.in[i].shape[0] != n)
    fail(call, std::string(name) + " " + shape_str(call.in[i]) + " must be [" + std::to_string(n) + "]");
}
void expect_residual(const OpCall& call, size_t i, const OutSpec& out) {
  expect_float(call, i, "residual");
  if (shape_str(call.in[i]) != shape_str(out)) fail(call, "residual " + shape_str(call.in[i]) + " must have the output's shape " + shape_str(out));
}
int64_t attr_int(const OpCall& call, size_t i, const char* name, int64_t lo, int64_t hi) {
  double v = call.attrs.at(i);
  if (!std::isfinite(v) || v != std::floor(v) || v < static_cast<double>(lo) || v > static_cast<double>(hi))
    fail(call, std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + std::to_string(v));
  return static_cast<int64_t>(v);
}
View host_view(const OpCall& call, size_t i, std::vector<char>& staging) {
  View v = call.in[i];
  if (!call.on_device || v.numel() == 0) return v;
  int64_t last = 0;
  for (int d = 0; d < v.rank; ++d) last += (v.shape[d] - 1) * v.strides[d];
  staging.resize(static_cast<size_t>(last + 1) * dtype_size(v.dtype));
  cuda::copy_to_host(staging.data(), v.data, staging.size());
  v.data = staging.data();
  return v;
}
OutSpec spec_of(const View& v) { return spec_of(v, v.dtype); }
OutSpec spec_of(const View& v, DType d) {
  OutSpec s;
  s.dtype = d;
  s.rank = v.rank;
  for (int i = 0; i < v.rank; ++i) s.shape[i] = v.shape[i];
  return s;
}

}  // namespace tf
