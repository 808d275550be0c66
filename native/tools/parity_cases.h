// The parity runner's cases: every op of ops.def on awkward shapes (odd, prime, 1, empty,
// transposed, broadcast), in float32 and the half dtypes where the op takes them.
#pragma once
#include <functional>
#include <string>
#include <vector>
#include "tool_tensor.h"

namespace tf::tools {

struct InputSpec {
  DType dtype;
  std::vector<int64_t> shape;
  double lo = -2, hi = 2;     // uniform range (integers: floor of it)
  bool transposed = false;
};

struct Case {
  std::string op;
  std::vector<InputSpec> in;
  std::vector<double> attrs;
  std::vector<InputSpec> out;  // outputs the op writes into (fill, rand, strided copy)
  size_t in_place = 0;         // leading inputs the op updates (optimizer steps): compared too
  // fixes up inputs after random filling, with the reference backend at hand (e.g. attention_backward's
  // out and lse come from the reference forward)
  std::function<void(std::vector<ToolTensor>&)> prepare;
};

std::vector<Case> parity_cases();

}  // namespace tf::tools
