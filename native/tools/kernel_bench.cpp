// The native kernel benchmark: GEMM, attention, LayerNorm, softmax and AdamW on one backend, as JSON
// lines (TFLOP/s for GEMM and attention, GB/s for the memory-bound ops, next to the copy bandwidth
// measured the same way). No Node: it runs on the lent GPU machine and in CI on the CPU.
//
//   tf_bench_<variant> [--backend cpu|cuda] [--quick]
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include "tensorforge/ceiling.h"
#include "tensorforge/cuda.h"
#include "tool_tensor.h"

using namespace tf;
using namespace tf::tools;

namespace {

Backend backend = Backend::cpu;
double min_seconds = 0.5;

struct Bench {
  OpCall call;
  std::vector<ToolTensor> ins, outs;
};

Bench prepare(Op op, std::vector<ToolTensor> ins, std::vector<double> attrs) {
  Bench b{{op, {}, {}, std::move(attrs)}, std::move(ins), {}};
  for (ToolTensor& t : b.ins) b.call.in.push_back(t.view());
  b.outs = outputs_for(b.call);
  const bool dev = backend == Backend::cuda;
  b.call.in.clear();
  for (ToolTensor& t : b.ins) {
    if (dev) t.upload();
    b.call.in.push_back(t.view(dev));
  }
  for (ToolTensor& t : b.outs) {
    if (dev) t.upload();
    b.call.out.push_back(t.view(dev));
  }
  b.call.on_device = dev;
  return b;
}

void sync() {
  if (backend == Backend::cuda) cuda::synchronize();
}

// seconds per call of fn: one warm-up, then repeats until min_seconds have passed
template <class Fn>
double time_it(Fn fn) {
  fn();
  sync();
  int reps = 0;
  auto t0 = std::chrono::steady_clock::now();
  double s = 0;
  do {
    fn();
    ++reps;
    if (reps % 4 == 0 || backend == Backend::cpu) sync();
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (s < min_seconds || reps < 3);
  sync();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

ToolTensor random(DType d, std::vector<int64_t> shape, double lo = -1, double hi = 1) {
  static std::mt19937_64 rng(7);
  ToolTensor t(d, std::move(shape));
  t.fill_uniform(rng, lo, hi, !is_float(d));
  return t;
}

void report(const char* name, const std::string& shape, DType d, double s, const char* unit, double amount) {
  std::printf("{\"bench\":\"%s\",\"backend\":\"%s\",\"dtype\":\"%s\",\"shape\":\"%s\",\"ms\":%.4f,\"%s\":%.4g}\n", name, backend_name(backend),
              dtype_name(d), shape.c_str(), s * 1e3, unit, amount / s / (unit[0] == 't' ? 1e12 : 1e9));
  std::fflush(stdout);
}

void gemm(Op op, DType d, int64_t M, int64_t N, int64_t K, const char* label = nullptr) {
  // matmul: a [M, K] b [K, N]; linear: x [M, K] w [N, K]
  std::vector<ToolTensor> v;
  v.push_back(random(d, {M, K}));
  v.push_back(op == Op::matmul ? random(d, {K, N}) : random(d, {N, K}));
  Bench b = prepare(op, std::move(v), {});
  double s = time_it([&] { run(backend, b.call); });
  report(label ? label : op == Op::matmul ? "matmul" : "linear", std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K), d, s, "tflops",
         2.0 * M * N * K);
}

void attention(DType d, int64_t B, int64_t H, int64_t S, int64_t D) {
  std::vector<ToolTensor> qkv;
  for (int i = 0; i < 3; ++i) qkv.push_back(random(d, {B, H, S, D}));
  Bench f = prepare(Op::attention, std::move(qkv), {1.0 / std::sqrt(double(D)), 0});
  const std::string shape = std::to_string(B) + "," + std::to_string(H) + "," + std::to_string(S) + "," + std::to_string(D);
  const double flops = 4.0 * B * H * S * S * D;  // QK^T and PV
  double s = time_it([&] { run(backend, f.call); });
  report("attention_fwd", shape, d, s, "tflops", flops);
  // backward inputs: q, k, v, out, lse, gout
  std::vector<ToolTensor> bin;
  for (int i = 0; i < 3; ++i) bin.push_back(std::move(f.ins[i]));
  for (int i = 0; i < 2; ++i) {
    if (backend == Backend::cuda) f.outs[i].download();
    bin.push_back(std::move(f.outs[i]));
  }
  bin.push_back(random(d, {B, H, S, D}));
  Bench g = prepare(Op::attention_backward, std::move(bin), {1.0 / std::sqrt(double(D)), 0});
  s = time_it([&] { run(backend, g.call); });
  report("attention_bwd", shape, d, s, "tflops", 2.5 * flops);  // dV, dP, dQ, dK (+ the recomputed S), as FlashAttention counts it
}

void memory_bound(int64_t rows, int64_t D, int64_t adam_n) {
  const std::string shape = std::to_string(rows) + "x" + std::to_string(D);
  const double bytes = 2.0 * rows * D * 4;  // read x, write y
  {
    std::vector<ToolTensor> v;
    v.push_back(random(DType::f32, {rows, D}));
    v.push_back(random(DType::f32, {D}));
    v.push_back(random(DType::f32, {D}));
    Bench b = prepare(Op::layer_norm, std::move(v), {1e-5});
    report("layer_norm", shape, DType::f32, time_it([&] { run(backend, b.call); }), "gbps", bytes);
  }
  {
    std::vector<ToolTensor> v;
    v.push_back(random(DType::f32, {rows, D}));
    Bench b = prepare(Op::softmax, std::move(v), {});
    report("softmax", shape, DType::f32, time_it([&] { run(backend, b.call); }), "gbps", bytes);
  }
  {
    std::vector<ToolTensor> v;
    v.push_back(random(DType::f32, {rows, D}));
    Bench b = prepare(Op::copy, std::move(v), {});
    report("copy_op", shape, DType::f32, time_it([&] { run(backend, b.call); }), "gbps", bytes);
    if (backend == Backend::cuda) {
      const View &src = b.call.in[0], &dst = b.call.out[0];
      report("copy_ceiling", shape, DType::f32,
             time_it([&] { cuda::copy_on_device(dst.data, src.data, static_cast<size_t>(rows * D * 4)); }), "gbps", bytes);
    } else {
      std::printf("{\"bench\":\"copy_ceiling\",\"backend\":\"cpu\",\"gbps\":%.2f}\n", ceiling::copy_gbps(0.3));
    }
  }
  {
    std::vector<ToolTensor> v;
    for (int i = 0; i < 4; ++i) v.push_back(random(DType::f32, {adam_n}, 0, 1));
    Bench b = prepare(Op::adamw_step, std::move(v), {1e-3, 0.9, 0.999, 1e-8, 0.01, 1});
    report("adamw", std::to_string(adam_n), DType::f32, time_it([&] { run(backend, b.call); }), "gbps", 7.0 * adam_n * 4);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc) {
      std::string b = argv[++i];
      backend = b == "cuda" ? Backend::cuda : Backend::cpu;
    } else if (a == "--quick") {
      quick = true;
    } else {
      std::fprintf(stderr, "usage: %s [--backend cpu|cuda] [--quick]\n", argv[0]);
      return 2;
    }
  }
  try {
    if (backend == Backend::cuda) {
      if (cuda::device_count() == 0) {
        std::printf("{\"error\":\"cuda backend unavailable: %s\"}\n", cuda::unavailable_reason().c_str());
        return 1;
      }
      std::printf("{\"device\":\"%s\"}\n", cuda::device_name(0).c_str());
    }
    min_seconds = quick ? 0.05 : 0.5;
    const bool gpu = backend == Backend::cuda;
    for (int64_t n : gpu ? std::vector<int64_t>{4096, 8192} : std::vector<int64_t>{quick ? 256 : 1024}) {
      gemm(Op::matmul, DType::bf16, n, n, n);
      gemm(Op::linear, DType::bf16, n, n, n);
      gemm(Op::matmul, DType::f32, n, n, n);
      if (gpu) {
        cuda::set_allow_tf32(true);
        gemm(Op::matmul, DType::f32, n, n, n, "matmul_tf32");
        cuda::set_allow_tf32(false);
      }
    }
    if (gpu) {
      attention(DType::bf16, 8, 16, 1024, 64);
      attention(DType::bf16, 4, 16, 2048, 128);
      memory_bound(16384, 1024, int64_t(1) << 26);
    } else {
      attention(DType::bf16, 1, 2, quick ? 128 : 512, 64);
      memory_bound(quick ? 1024 : 8192, 1024, quick ? (int64_t(1) << 20) : (int64_t(1) << 24));
    }
  } catch (const std::exception& e) {
    std::printf("{\"error\":\"%s\"}\n", e.what());
    return 1;
  }
  return 0;
}
