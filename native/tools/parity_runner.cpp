// The native parity runner: every op of ops.def, forward and backward, on every compiled backend
// (cpu; cuda where a device answers), against the plain-loop reference on random inputs of awkward
// shapes. Outputs are poisoned (all bits set: NaN for floats) before each run, so an element a
// kernel forgets to write fails; a NaN where the reference has none never passes.
//
//   tf_parity_<variant> [--backend cpu|cuda|all] [--op NAME] [--quiet] [--perturb] [--tf32]
// prints one JSON line per case and backend, then a summary line; exits 1 on any failure.
// --perturb shifts the last element of every backend output by 1 + 5% of the output's largest magnitude (beyond every tolerance)
// (+1) before comparing: a check of the checker, every non-empty case must then fail.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include "parity_cases.h"
#include "tensorforge/cuda.h"

using namespace tf;
using namespace tf::tools;

namespace {

// Largest error relative to the reference's largest magnitude, for the coarsest float dtype among
// the case's inputs and the output; integer outputs must match exactly.
double tolerance(DType d) {
  switch (d) {
    case DType::f32: return 1e-5;
    case DType::f16: return 4e-3;
    case DType::bf16: return 2e-2;
    default: return 0;
  }
}

// TF32 keeps 10 of float32's 23 mantissa bits (unit roundoff 2^-11 per rounded input)
constexpr double kTf32Tolerance = 5e-3;

double coarsest(const Case& c, DType out) {
  double t = tolerance(out);
  for (const InputSpec& i : c.in)
    if (is_float(i.dtype)) t = std::max(t, tolerance(i.dtype));
  return t;
}

struct Compare {
  double err = 0;
  bool nan_mismatch = false;
  std::string where;
};

Compare compare(const ToolTensor& got, const ToolTensor& want) {
  Compare r;
  View g = got.view(), w = want.view();
  // relative to the reference's largest magnitude, or to 0.01 where it is smaller: an output that
  // cancels to nearly zero (the query gradient through a single key) is judged on its terms' scale
  const double scale = std::max(max_abs_finite(want), 1e-2);
  for (int64_t i = 0; i < w.numel(); ++i) {
    double a = g.get(g.offset_of(i)), b = w.get(w.offset_of(i));
    if (std::isnan(a) != std::isnan(b) || (std::isinf(b) && a != b) || (std::isinf(a) && a != b)) {
      r.nan_mismatch = true;
      r.where = "element " + std::to_string(i) + ": got " + std::to_string(a) + ", reference " + std::to_string(b);
      return r;
    }
    if (std::isnan(b) || std::isinf(b)) continue;
    double e = std::fabs(a - b) / scale;
    if (e > r.err) {
      r.err = e;
      r.where = "element " + std::to_string(i) + ": got " + std::to_string(a) + ", reference " + std::to_string(b);
    }
  }
  return r;
}

std::string describe(const Case& c) {
  std::string s;
  for (const InputSpec& i : c.in) s += std::string(s.empty() ? "" : " ") + dtype_name(i.dtype) + shape_str(i.shape) + (i.transposed ? "T" : "");
  for (const InputSpec& o : c.out) s += std::string(" -> ") + dtype_name(o.dtype) + shape_str(o.shape) + (o.transposed ? "T" : "");
  return s;
}

std::vector<ToolTensor> make_inputs(const Case& c, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<ToolTensor> ins;
  for (const InputSpec& s : c.in) {
    ins.emplace_back(s.dtype, s.shape, s.transposed);
    ins.back().fill_uniform(rng, s.lo, s.hi, !is_float(s.dtype));
  }
  if (c.prepare) c.prepare(ins);
  return ins;
}

// Runs a case on one backend: outputs poisoned first; returns outputs then the in-place inputs.
std::vector<ToolTensor> run_case(const Case& c, Backend b, uint64_t seed) {
  std::vector<ToolTensor> ins = make_inputs(c, seed);
  const bool dev = b == Backend::cuda;
  OpCall call{static_cast<Op>(op_from_name(c.op)), {}, {}, c.attrs};
  std::vector<ToolTensor> outs;
  for (const InputSpec& s : c.out) outs.emplace_back(s.dtype, s.shape, s.transposed);
  for (ToolTensor& t : ins) call.in.push_back(t.view());
  for (ToolTensor& t : outs) call.out.push_back(t.view());
  std::vector<ToolTensor> inferred = outputs_for(call);  // on the host copies: index checks read them there
  if (outs.empty()) outs = std::move(inferred);
  for (ToolTensor& t : outs) t.fill_bytes(0xff);
  if (dev) {
    for (ToolTensor& t : ins) t.upload();
    for (ToolTensor& t : outs) t.upload();
  }
  call.in.clear();
  call.out.clear();
  for (ToolTensor& t : ins) call.in.push_back(t.view(dev));
  for (ToolTensor& t : outs) call.out.push_back(t.view(dev));
  call.on_device = dev;
  run(b, call);
  if (dev) {
    cuda::synchronize();
    for (ToolTensor& t : outs) t.download();
    for (size_t i = 0; i < c.in_place; ++i) ins[i].download();
  }
  for (size_t i = 0; i < c.in_place; ++i) outs.push_back(std::move(ins[i]));
  return outs;
}

void perturb(std::vector<ToolTensor>& outs) {
  for (ToolTensor& t : outs) {
    View v = t.view();
    if (v.numel() == 0) continue;
    const int64_t off = v.offset_of(v.numel() - 1);
    v.set(off, v.get(off) + 0.05 * max_abs_finite(t) + 1);
  }
}

std::string json_escape(const std::string& s) {
  std::string r;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') r += '\\';
    r += ch;
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  std::string want_backend = "all", only_op;
  bool quiet = false, shift = false, tf32 = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--backend" && i + 1 < argc) want_backend = argv[++i];
    else if (a == "--op" && i + 1 < argc) only_op = argv[++i];
    else if (a == "--quiet") quiet = true;
    else if (a == "--perturb") shift = true;
    else if (a == "--tf32") tf32 = true;
    else {
      std::fprintf(stderr, "usage: %s [--backend cpu|cuda|all] [--op NAME] [--quiet] [--perturb] [--tf32]\n", argv[0]);
      return 2;
    }
  }
  std::vector<Backend> backends;
  if (want_backend == "cpu" || want_backend == "all") backends.push_back(Backend::cpu);
  if (want_backend == "cuda" || want_backend == "all") {
    if (cuda::device_count() > 0) backends.push_back(Backend::cuda);
    else if (want_backend == "cuda") {
      std::printf("{\"error\":\"cuda backend unavailable: %s\"}\n", json_escape(cuda::unavailable_reason()).c_str());
      return 1;
    } else {
      std::printf("{\"skipped\":\"cuda\",\"reason\":\"%s\"}\n", json_escape(cuda::unavailable_reason()).c_str());
    }
  }
  // --tf32: the GEMM ops on the cuda backend with TF32 allowed, float32 within kTf32Tolerance
  if (tf32) {
    cuda::set_allow_tf32(true);
    backends.erase(std::remove(backends.begin(), backends.end(), Backend::cpu), backends.end());
    if (backends.empty()) {
      std::printf("{\"error\":\"--tf32 needs the cuda backend: %s\"}\n", json_escape(cuda::unavailable_reason()).c_str());
      return 1;
    }
  }
  std::vector<Case> cases = parity_cases();
  if (tf32) cases.erase(std::remove_if(cases.begin(), cases.end(), [](const Case& c) { return c.op != "matmul" && c.op != "linear"; }), cases.end());
  int failed = 0, passed = 0;
  // every op needs at least one case
  std::set<std::string> covered;
  for (const Case& c : cases) covered.insert(c.op);
  for (int i = 0; i < kNumOps && only_op.empty() && !tf32; ++i)
    if (!covered.count(op_name(static_cast<Op>(i)))) {
      std::printf("{\"op\":\"%s\",\"pass\":false,\"error\":\"no parity case\"}\n", op_name(static_cast<Op>(i)));
      ++failed;
    }
  uint64_t seed = 1;
  for (const Case& c : cases) {
    ++seed;
    if (!only_op.empty() && c.op != only_op) continue;
    if (op_from_name(c.op) < 0) {
      std::printf("{\"op\":\"%s\",\"pass\":false,\"error\":\"unknown op\"}\n", c.op.c_str());
      ++failed;
      continue;
    }
    std::vector<ToolTensor> want;
    std::string error;
    try {
      want = run_case(c, Backend::ref, seed);
    } catch (const std::exception& e) {
      error = std::string("reference: ") + e.what();
    }
    for (Backend b : backends) {
      double err = 0, tol = 0;
      std::string detail = error;
      bool ok = error.empty();
      if (ok) {
        try {
          std::vector<ToolTensor> got = run_case(c, b, seed);
          if (shift) perturb(got);
          for (size_t i = 0; i < want.size() && ok; ++i) {
            Compare r = compare(got[i], want[i]);
            tol = is_float(want[i].dtype) ? std::max(coarsest(c, want[i].dtype), tf32 ? kTf32Tolerance : 0.0) : 0.0;
            err = std::max(err, r.err);
            if (r.nan_mismatch || r.err > tol) {
              ok = false;
              detail = "output " + std::to_string(i) + " " + (r.nan_mismatch ? "NaN/inf mismatch at " : "error at ") + r.where;
            }
          }
        } catch (const std::exception& e) {
          ok = false;
          detail = e.what();
        }
      }
      ok ? ++passed : ++failed;
      if (!quiet || !ok)
        std::printf("{\"op\":\"%s\",\"backend\":\"%s\",\"case\":\"%s\",\"max_err\":%.3g,\"tol\":%.3g,\"pass\":%s%s%s%s}\n", c.op.c_str(),
                    backend_name(b), describe(c).c_str(), err, tol, ok ? "true" : "false", detail.empty() ? "" : ",\"detail\":\"",
                    json_escape(detail).c_str(), detail.empty() ? "" : "\"");
    }
  }
  std::string names;
  for (Backend b : backends) names += std::string(names.empty() ? "" : ",") + "\"" + backend_name(b) + "\"";
  std::printf("{\"summary\":true,\"backends\":[%s],\"passed\":%d,\"failed\":%d}\n", names.c_str(), passed, failed);
  return failed ? 1 : 0;
}
