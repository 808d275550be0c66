#include "tool_tensor.h"
#include <cmath>
#include <cstring>
#include <sstream>
#include "tensorforge/cuda.h"

namespace tf::tools {

ToolTensor::ToolTensor(DType d, std::vector<int64_t> s, bool t) : dtype(d), shape(std::move(s)), transposed(t && shape.size() >= 2) {
  const size_t n = static_cast<size_t>(numel()) * dtype_size(d);
  host.assign((n + 7) / 8 + 2, 0);  // +16 bytes so an empty tensor still has an address
}
ToolTensor::ToolTensor(ToolTensor&& o) noexcept { *this = std::move(o); }
ToolTensor& ToolTensor::operator=(ToolTensor&& o) noexcept {
  if (this != &o) {
    if (device) cuda::release(device);
    dtype = o.dtype;
    shape = std::move(o.shape);
    transposed = o.transposed;
    host = std::move(o.host);
    device = o.device;
    o.device = nullptr;
  }
  return *this;
}
ToolTensor::~ToolTensor() {
  if (device) cuda::release(device);
}

int64_t ToolTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

View ToolTensor::view(bool on_device) const {
  View v;
  v.data = on_device ? static_cast<char*>(device) : reinterpret_cast<char*>(const_cast<uint64_t*>(host.data()));
  v.dtype = dtype;
  v.rank = static_cast<int>(shape.size());
  for (int i = 0; i < v.rank; ++i) v.shape[i] = shape[i];
  if (!transposed) {
    set_contiguous_strides(v);
  } else {  // stored as [..., b, a]: contiguous strides of the swapped shape, then swap them back
    std::swap(v.shape[v.rank - 1], v.shape[v.rank - 2]);
    set_contiguous_strides(v);
    std::swap(v.shape[v.rank - 1], v.shape[v.rank - 2]);
    std::swap(v.strides[v.rank - 1], v.strides[v.rank - 2]);
  }
  return v;
}

void ToolTensor::fill_uniform(std::mt19937_64& rng, double lo, double hi, bool integer) {
  std::uniform_real_distribution<double> u(lo, hi);
  View v = view();
  for (int64_t i = 0; i < numel(); ++i) {
    double x = u(rng);
    v.set(v.offset_of(i), integer ? std::floor(x) : x);
  }
}

void ToolTensor::fill_bytes(unsigned char b) { std::memset(host.data(), b, bytes()); }

void ToolTensor::upload() {
  if (!device) device = cuda::alloc(bytes());
  cuda::copy_to_device(device, host.data(), bytes());
}
void ToolTensor::download() { cuda::copy_to_host(host.data(), device, bytes()); }

std::vector<ToolTensor> outputs_for(const OpCall& call) {
  std::vector<OutSpec> specs;
  infer(call, specs);
  std::vector<ToolTensor> outs;
  for (const OutSpec& s : specs) outs.emplace_back(s.dtype, std::vector<int64_t>(s.shape, s.shape + s.rank));
  return outs;
}

double max_abs_finite(const ToolTensor& t) {
  View v = t.view();
  double m = 0;
  for (int64_t i = 0; i < v.numel(); ++i) {
    const double x = v.get(v.offset_of(i));
    if (std::isfinite(x)) m = std::max(m, std::fabs(x));
  }
  return m;
}

std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

}  // namespace tf::tools
