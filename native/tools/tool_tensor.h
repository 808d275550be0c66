// Tensors for the native tools (parity runner, kernel benchmark): a host buffer that can be mirrored
// on the CUDA device, and views of either copy.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>
#include "tensorforge/op.h"

namespace tf::tools {

struct ToolTensor {
  DType dtype = DType::f32;
  std::vector<int64_t> shape;
  bool transposed = false;        // the last two dims are stored swapped (a non-contiguous view)
  std::vector<uint64_t> host;     // 8-byte aligned storage
  void* device = nullptr;         // mirror on the CUDA device, when uploaded

  ToolTensor() = default;
  ToolTensor(DType d, std::vector<int64_t> s, bool t = false);
  ToolTensor(const ToolTensor&) = delete;
  ToolTensor& operator=(const ToolTensor&) = delete;
  ToolTensor(ToolTensor&& o) noexcept;
  ToolTensor& operator=(ToolTensor&& o) noexcept;
  ~ToolTensor();

  size_t bytes() const { return host.size() * sizeof(uint64_t); }
  int64_t numel() const;
  View view(bool on_device = false) const;  // the logical view (shape as given) of one copy
  void fill_uniform(std::mt19937_64& rng, double lo, double hi, bool integer);
  void fill_bytes(unsigned char b);
  void upload();    // host -> device (allocates the mirror once)
  void download();  // device -> host
};

std::string shape_str(const std::vector<int64_t>& s);
// Runs the op's shape function on a call over host views and returns new tensors for its outputs.
std::vector<ToolTensor> outputs_for(const OpCall& call);
// The largest finite |x| of a tensor's host copy (0 when it has none).
double max_abs_finite(const ToolTensor& t);

}  // namespace tf::tools
