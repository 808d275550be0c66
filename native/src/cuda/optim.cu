// CUDA optimizer steps over every parameter of a group in one launch: a table of tensors on the
// device, blockIdx.y picks the tensor, a grid-stride loop its elements. Same order of operations as
// torch.optim.AdamW / SGD (foreach=False), in float32.
#include <vector>
#include "common.cuh"

namespace tf::cuda {
namespace {

struct Slot {
  float* t[4];  // param, grad, state...
  int64_t n;
};

struct AdamW {
  float decay, one_minus_b1, b2, one_minus_b2, rsqrt_bc2, eps, step_size;
  __device__ void operator()(const Slot& s, int64_t j) const {
    float &p = s.t[0][j], g = s.t[1][j], &m = s.t[2][j], &v = s.t[3][j];
    p *= decay;
    m += (g - m) * one_minus_b1;
    v = v * b2 + one_minus_b2 * g * g;
    p -= step_size * m / (sqrtf(v) * rsqrt_bc2 + eps);
  }
};
struct Sgd {
  float lr, momentum, one_minus_damp, wd;
  bool nesterov, first;
  __device__ void operator()(const Slot& s, int64_t j) const {
    float &p = s.t[0][j], g = s.t[1][j];
    float d = g + wd * p;
    if (momentum != 0.0f) {
      float& buf = s.t[2][j];
      buf = first ? d : momentum * buf + one_minus_damp * d;
      d = nesterov ? d + momentum * buf : buf;
    }
    p -= lr * d;
  }
};

template <class Step>
__global__ void multi_tensor_kernel(const Slot* slots, Step step) {
  const Slot s = slots[blockIdx.y];
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < s.n; j += int64_t(gridDim.x) * blockDim.x) step(s, j);
}

template <class Step>
void launch(OpCall& c, size_t lists, Step step) {
  const size_t n = c.in.size() / lists;
  std::vector<Slot> host(n);
  int64_t largest = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t k = 0; k < lists; ++k) host[i].t[k] = c.in[k * n + i].ptr<float>();
    host[i].n = c.in[i].numel();
    largest = std::max(largest, host[i].n);
  }
  if (largest == 0) return;
  Scratch table(n * sizeof(Slot));
  TF_CUDA_CHECK(cudaMemcpyAsync(table.as<Slot>(), host.data(), n * sizeof(Slot), cudaMemcpyHostToDevice, stream()));
  // blockIdx.y is limited to 65535 tensors per launch
  for (size_t first = 0; first < n; first += 65535) {
    dim3 grid(std::max(1u, grid_for(largest) / 4), static_cast<unsigned>(std::min<size_t>(65535, n - first)));
    multi_tensor_kernel<<<grid, kThreads, 0, stream()>>>(table.as<Slot>() + first, step);
    TF_CUDA_LAUNCHED();
  }
}

void k_adamw_step(OpCall& c) {
  const double lr = c.attrs[0], b1 = c.attrs[1], b2 = c.attrs[2], eps = c.attrs[3], wd = c.attrs[4], t = c.attrs[5];
  const double bc1 = 1 - std::pow(b1, t), bc2 = 1 - std::pow(b2, t);
  launch(c, 4, AdamW{static_cast<float>(1 - lr * wd), static_cast<float>(1 - b1), static_cast<float>(b2), static_cast<float>(1 - b2),
                     static_cast<float>(1 / std::sqrt(bc2)), static_cast<float>(eps), static_cast<float>(lr / bc1)});
}
void k_sgd_step(OpCall& c) {
  launch(c, 3, Sgd{static_cast<float>(c.attrs[0]), static_cast<float>(c.attrs[1]), static_cast<float>(1 - c.attrs[2]),
                   static_cast<float>(c.attrs[3]), c.attrs[4] != 0, c.attrs[5] != 0});
}

TF_REGISTER_KERNEL(cuda, adamw_step, k_adamw_step);
TF_REGISTER_KERNEL(cuda, sgd_step, k_sgd_step);

}  // namespace
}  // namespace tf::cuda
