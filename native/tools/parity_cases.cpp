#include "parity_cases.h"

namespace tf::tools {
namespace {

constexpr DType F = DType::f32, H = DType::f16, B = DType::bf16, I = DType::i32, U = DType::u8, Q = DType::i8;

InputSpec in(DType d, std::vector<int64_t> s, double lo = -2, double hi = 2) { return {d, std::move(s), lo, hi, false}; }
InputSpec tr(DType d, std::vector<int64_t> s, double lo = -2, double hi = 2) { return {d, std::move(s), lo, hi, true}; }

// Runs `op` on the reference backend with inputs `ins` (host views) and returns its outputs.
std::vector<ToolTensor> ref_outputs(Op op, const std::vector<const ToolTensor*>& ins, const std::vector<double>& attrs) {
  OpCall c{op, {}, {}, attrs};
  for (const ToolTensor* t : ins) c.in.push_back(t->view());
  std::vector<ToolTensor> outs = outputs_for(c);
  for (ToolTensor& t : outs) c.out.push_back(t.view());
  run(Backend::ref, c);
  return outs;
}
void copy_into(ToolTensor& dst, const ToolTensor& src) {
  View d = dst.view(), s = src.view();
  for (int64_t i = 0; i < s.numel(); ++i) d.set(d.offset_of(i), s.get(s.offset_of(i)));
}

// attention_backward(q, k, v, out, lse, gout, mask?): out and lse from the reference forward
void attention_forward_into(std::vector<ToolTensor>& t, std::vector<double> attrs) {
  std::vector<const ToolTensor*> fwd{&t[0], &t[1], &t[2]};
  if (t.size() > 6) fwd.push_back(&t[6]);
  std::vector<ToolTensor> o = ref_outputs(Op::attention, fwd, attrs);
  copy_into(t[3], o[0]);
  copy_into(t[4], o[1]);
}
// cross_entropy_backward(logits, labels, lse, gloss): lse from the forward, one ignored label
void cross_entropy_into(std::vector<ToolTensor>& t, std::vector<double> attrs) {
  t[1].view().set(0, attrs[0]);
  std::vector<ToolTensor> o = ref_outputs(Op::cross_entropy, {&t[0], &t[1]}, attrs);
  copy_into(t[2], o[1]);
}
void ignore_first_label(std::vector<ToolTensor>& t, double ignore) { t[1].view().set(0, ignore); }

void elementwise(std::vector<Case>& cs) {
  const char* unary[] = {"neg", "abs", "exp", "tanh", "sigmoid", "sign", "relu", "gelu", "gelu_tanh"};
  for (const char* op : unary) {
    cs.push_back({op, {in(F, {7, 33})}});
    cs.push_back({op, {tr(F, {5, 9})}});
    cs.push_back({op, {in(B, {3, 17})}});
    cs.push_back({op, {in(H, {1, 19})}});
    cs.push_back({op, {in(F, {0, 4})}});
  }
  for (const char* op : {"log", "sqrt", "rsqrt"}) {
    cs.push_back({op, {in(F, {7, 33}, 0.1, 3)}});
    cs.push_back({op, {in(B, {3, 17}, 0.1, 3)}});
  }
  for (const char* op : {"neg", "abs", "relu", "sign"}) cs.push_back({op, {in(I, {4, 9}, -50, 50)}});
  const char* binary[] = {"add", "sub", "mul", "maximum", "minimum", "relu_backward", "gelu_backward", "gelu_tanh_backward",
                          "tanh_backward", "sigmoid_backward"};
  for (const char* op : binary) {
    cs.push_back({op, {in(F, {3, 1, 5}), in(F, {4, 5})}});
    cs.push_back({op, {tr(F, {6, 7}), in(F, {6, 7})}});
    cs.push_back({op, {in(B, {6, 7}), in(B, {7})}});
    cs.push_back({op, {in(H, {2, 3}), in(H, {2, 3})}});
  }
  for (const char* op : {"add", "sub", "mul", "maximum", "minimum"}) cs.push_back({op, {in(I, {4, 9}, -50, 50), in(I, {9}, -50, 50)}});
  cs.push_back({"div", {in(F, {3, 1, 5}), in(F, {4, 5}, 0.5, 2)}});
  cs.push_back({"div", {in(B, {6, 7}), in(B, {6, 7}, 0.5, 2)}});
  cs.push_back({"pow", {in(F, {3, 1, 5}, 0.1, 3), in(F, {4, 5})}});
  cs.push_back({"pow", {in(H, {6, 7}, 0.1, 3), in(H, {7})}});
  for (const char* op : {"eq", "ne", "lt", "le", "gt", "ge"}) {
    cs.push_back({op, {in(F, {3, 1, 5}, -2, 2), in(F, {4, 5}, -2, 2)}});
    cs.push_back({op, {in(I, {4, 9}, -3, 3), in(I, {4, 9}, -3, 3)}});
  }
  cs.push_back({"copy", {tr(F, {5, 7})}});
  cs.push_back({"copy", {in(F, {5, 7})}, {static_cast<double>(B)}});
  cs.push_back({"copy", {in(B, {3, 11})}, {static_cast<double>(F)}});
  cs.push_back({"copy", {in(F, {9}, -300, 300)}, {static_cast<double>(I)}});
  cs.push_back({"copy", {in(F, {7})}, {}, {{F, {4, 7}, -2, 2, true}}});  // broadcast into a transposed output
  cs.push_back({"fill", {}, {2.5}, {in(F, {3, 5})}});
  cs.push_back({"fill", {}, {-7}, {in(I, {4})}});
  cs.push_back({"fill", {}, {0.1}, {in(B, {2, 9})}});
  cs.push_back({"clamp", {in(F, {5, 9})}, {-0.5, 0.7}});
  cs.push_back({"clamp", {tr(B, {4, 6})}, {-0.5, 0.7}});
  cs.push_back({"clamp_backward", {in(F, {5, 9}), in(F, {5, 9})}, {-0.5, 0.7}});
  cs.push_back({"where", {in(U, {4, 1}, 0, 2), in(F, {4, 5}), in(F, {5})}});
  cs.push_back({"where", {in(U, {3, 7}, 0, 2), in(B, {3, 7}), in(B, {3, 7})}});
  cs.push_back({"masked_fill", {in(F, {3, 4, 5}), in(U, {4, 5}, 0, 2)}, {-1e9}});
  cs.push_back({"masked_fill", {in(H, {3, 5}), in(U, {3, 5}, 0, 2)}, {0.25}});
}

void reductions(std::vector<Case>& cs) {
  cs.push_back({"sum", {in(F, {5, 6, 7})}, {0, 1}});
  cs.push_back({"sum", {in(F, {5, 6, 7})}, {0}});
  cs.push_back({"sum", {tr(F, {9, 13})}, {1, -1}});
  cs.push_back({"sum", {in(B, {4, 300})}, {0, 1}});
  cs.push_back({"sum", {in(I, {4, 30}, -100, 100)}, {0, 0}});
  cs.push_back({"sum", {in(U, {4, 30}, 0, 255)}, {0, 1}});
  cs.push_back({"sum", {in(F, {0, 3})}, {0, 0}});
  cs.push_back({"mean", {in(F, {5, 6, 7})}, {1, 0, 2}});
  cs.push_back({"mean", {in(H, {3, 40})}, {0, 1}});
  cs.push_back({"max", {in(F, {5, 6, 7})}, {0, 2}});
  cs.push_back({"max", {tr(B, {8, 5})}, {0, 0}});
  cs.push_back({"min", {in(F, {5, 6, 7})}, {0, -1}});
  cs.push_back({"min", {in(I, {6, 9}, -100, 100)}, {1, 1}});
  cs.push_back({"argmax", {in(F, {5, 6, 7})}, {0, 1}});
  cs.push_back({"argmax", {tr(F, {8, 33})}, {0, -1}});
  cs.push_back({"var", {in(F, {5, 6, 7})}, {0, 1, 1}});
  cs.push_back({"var", {in(F, {4, 1000})}, {1, 0, 1}});
  cs.push_back({"softmax", {in(F, {6, 37})}});
  cs.push_back({"softmax", {tr(F, {9, 10})}});
  cs.push_back({"softmax", {in(B, {4, 300})}});
  cs.push_back({"softmax", {in(F, {2, 13001})}});  // longer than a shared-memory row
  cs.push_back({"log_softmax", {in(F, {6, 37})}});
  cs.push_back({"log_softmax", {in(H, {3, 130})}});
  cs.push_back({"log_softmax", {in(F, {2, 13001})}});
  cs.push_back({"softmax_backward", {in(F, {6, 37}, 0, 1), in(F, {6, 37})}});
  cs.push_back({"softmax_backward", {in(B, {5, 64}, 0, 1), in(B, {5, 64})}});
  cs.push_back({"log_softmax_backward", {in(F, {6, 37}, -5, 0), in(F, {6, 37})}});
  cs.push_back({"log_softmax_backward", {tr(F, {7, 9}, -5, 0), in(F, {7, 9})}});
}

void linear_algebra(std::vector<Case>& cs) {
  cs.push_back({"matmul", {in(F, {2, 3, 17, 19}), in(F, {19, 23})}});
  cs.push_back({"matmul", {tr(F, {37, 45}), in(F, {45, 29})}});
  cs.push_back({"matmul", {in(F, {1, 1}), in(F, {1, 1})}});
  cs.push_back({"matmul", {in(F, {3, 0}), in(F, {0, 4})}});
  cs.push_back({"matmul", {in(B, {64, 40}), in(B, {40, 136})}});       // tensor cores after a transposed copy of b
  cs.push_back({"matmul", {in(B, {2, 200, 72}), tr(B, {2, 72, 130})}});  // b already K-contiguous
  cs.push_back({"matmul", {in(H, {130, 72}), in(H, {72, 200})}});
  cs.push_back({"matmul", {in(B, {37, 45}), in(B, {45, 29})}});        // K % 8 != 0: SIMT
  cs.push_back({"linear", {in(F, {2, 5, 24}), in(F, {33, 24}), in(F, {33})}});
  cs.push_back({"linear", {in(F, {24}), in(F, {33, 24})}});
  cs.push_back({"linear", {tr(F, {3, 8, 5}), in(F, {6, 5}), in(F, {6})}});  // rows that do not merge
  cs.push_back({"linear", {in(B, {200, 64}), in(B, {136, 64}), in(F, {136})}});
  cs.push_back({"linear", {in(H, {3, 129, 256}), in(H, {72, 256})}});
  cs.push_back({"linear", {in(F, {4, 0}), in(F, {5, 0}), in(F, {5})}});
  // K past one packed slice (256 float32 / 512 bf16 values): packing from k0 > 0, odd tails
  cs.push_back({"linear", {in(F, {70, 300}), in(F, {45, 300}), in(F, {45})}});
  cs.push_back({"linear", {in(B, {33, 1030}), in(B, {40, 1030})}});
  cs.push_back({"linear", {in(F, {2, 21, 300}), in(F, {70, 300}), in(F, {70}), in(F, {2, 21, 70})}, {1}});  // a fused residual
  cs.push_back({"linear", {in(B, {5, 40}), in(B, {24, 40}), in(F, {5, 24})}, {1}});  // float32 out
  cs.push_back({"matmul", {in(B, {20, 1101}), in(B, {1101, 70})}});
  cs.push_back({"matmul", {tr(B, {37, 45}), in(B, {45, 70})}});  // a transposed bf16 A (a weight gradient's)
  cs.push_back({"quantize_per_channel", {in(F, {17, 37})}});
  cs.push_back({"quantize_per_channel", {tr(B, {9, 16})}});
  cs.push_back({"linear_int8", {in(F, {5, 37}), in(Q, {11, 37}, -127, 128), in(F, {11}, 0.001, 0.02), in(F, {11})}, {0}});
  cs.push_back({"linear_int8", {in(F, {2, 3, 64}), in(Q, {19, 64}, -127, 128), in(F, {19}, 0.001, 0.02)}, {0.02}});
  cs.push_back({"linear_int8", {in(F, {9, 40}), in(Q, {70, 40}, -127, 128), in(F, {70}, 0.001, 0.02), in(F, {70}), in(F, {9, 70})}, {0, 1}});
  // bf16 activations in, a bf16 output (the q, k, v of an int8 attention)
  cs.push_back({"linear_int8", {in(B, {9, 40}), in(Q, {70, 40}, -127, 128), in(F, {70}, 0.001, 0.02), in(F, {70})}, {0, 0, 1}});
  cs.push_back({"linear_int8", {in(F, {9, 40}), in(Q, {70, 40}, -127, 128), in(F, {70}, 0.001, 0.02), in(F, {9, 70})}, {0.02, 1, 1}});
  // relu or gelu after the bias, in the epilogue (an int8 feed-forward's first layer)
  cs.push_back({"linear_int8", {in(F, {9, 40}), in(Q, {70, 40}, -127, 128), in(F, {70}, 0.001, 0.02), in(F, {70})}, {0, 0, 1, 2}});
  cs.push_back({"linear_int8", {in(F, {9, 40}), in(Q, {33, 40}, -127, 128), in(F, {33}, 0.001, 0.02)}, {0.02, 0, 0, 1}});
}

void layers(std::vector<Case>& cs) {
  cs.push_back({"layer_norm", {in(F, {6, 50}), in(F, {50}), in(F, {50})}, {1e-5}});
  cs.push_back({"layer_norm", {in(F, {2, 3, 31})}, {1e-5}});
  cs.push_back({"layer_norm", {in(B, {4, 128}), in(F, {128}), in(F, {128})}, {1e-5}});
  cs.push_back({"layer_norm", {in(F, {2, 13001}), in(F, {13001})}, {1e-6}});
  cs.push_back({"layer_norm_backward", {in(F, {6, 50}), in(F, {6, 50}), in(F, {6}), in(F, {6}, 0.5, 2), in(F, {50})}});
  cs.push_back({"layer_norm_backward", {in(F, {130, 7}), tr(F, {130, 7}), in(F, {130}), in(F, {130}, 0.5, 2)}});
  cs.push_back({"layer_norm_backward", {in(B, {3, 64}), in(B, {3, 64}), in(F, {3}), in(F, {3}, 0.5, 2), in(F, {64})}});
  cs.push_back({"embedding", {in(F, {11, 8}), in(I, {3, 4}, 0, 11)}});
  cs.push_back({"embedding", {in(B, {50, 33}), in(I, {70}, 0, 50)}});
  cs.push_back({"embedding_backward", {in(F, {3, 4, 8}), in(I, {3, 4}, 0, 5)}, {11}});
  cs.push_back({"embedding_backward", {in(B, {70, 33}), in(I, {70}, 0, 50)}, {50}});
  cs.push_back({"gather", {in(F, {4, 6}), in(I, {4, 3}, 0, 6)}, {1}});
  cs.push_back({"gather", {in(F, {5, 2, 3}), in(I, {7, 2, 3}, 0, 5)}, {0}});
  cs.push_back({"scatter_add", {in(F, {4, 3}), in(I, {4, 3}, 0, 6)}, {1, 4, 6}});
  cs.push_back({"scatter_add", {in(F, {7, 2}), in(I, {7, 2}, 0, 5)}, {0, 5, 3}});
  cs.push_back({"index_select", {in(F, {5, 7}), in(I, {4}, 0, 7)}, {1}});
  cs.push_back({"index_select", {in(B, {5, 7, 3}), in(I, {9}, 0, 5)}, {0}});
  cs.push_back({"index_add", {in(F, {5, 4}), in(I, {4}, 0, 7)}, {1, 7}});
  cs.push_back({"index_add", {in(F, {6, 3}), in(I, {6}, 0, 4)}, {0, 4}});
  cs.push_back({"rand_uniform", {}, {42, 5, -1, 3}, {in(F, {1000})}});
  cs.push_back({"rand_uniform", {}, {7, 0, 0, 1}, {in(B, {13, 7})}});
  cs.push_back({"rand_normal", {}, {7, 3, 0.5, 2}, {in(F, {1001})}});
  cs.push_back({"dropout", {in(F, {37, 41})}, {0.3, 42, 17}});
  cs.push_back({"dropout", {tr(B, {9, 20})}, {0.1, 3, 0}});
  cs.push_back({"dropout_backward", {in(F, {37, 41}), in(U, {37, 41}, 0, 2)}, {0.3}});
  cs.push_back({"cross_entropy", {in(F, {7, 11}, -4, 4), in(I, {7}, 0, 11)}, {-100, 0.1},
                {}, 0, [](std::vector<ToolTensor>& t) { ignore_first_label(t, -100); }});
  cs.push_back({"cross_entropy", {in(B, {5, 300}, -4, 4), in(I, {5}, 0, 300)}, {-1, 0}});
  cs.push_back({"cross_entropy_backward", {in(F, {7, 11}, -4, 4), in(I, {7}, 0, 11), in(F, {7}), in(F, {7})}, {-100, 0.1},
                {}, 0, [](std::vector<ToolTensor>& t) { cross_entropy_into(t, {-100, 0.1}); }});
  cs.push_back({"adamw_step", {in(F, {5, 7}), in(F, {11}), in(F, {5, 7}), in(F, {11}), in(F, {5, 7}), in(F, {11}),
                               in(F, {5, 7}, 0, 1), in(F, {11}, 0, 1)},
                {1e-3, 0.9, 0.999, 1e-8, 0.01, 3}, {}, 8});
  cs.push_back({"sgd_step", {in(F, {5, 7}), in(F, {11}), in(F, {5, 7}), in(F, {11}), in(F, {5, 7}), in(F, {11})},
                {0.1, 0.9, 0.1, 0.01, 1, 0}, {}, 6});
  cs.push_back({"sgd_step", {in(F, {13}), in(F, {13}), in(F, {13})}, {0.1, 0, 0, 0, 0, 1}, {}, 3});
}

void attention(std::vector<Case>& cs) {
  auto fwd = [&](DType d, int64_t Bn, int64_t Hn, int64_t Sq, int64_t Sk, int64_t D, int64_t Dv, bool mask, bool causal) {
    Case c{"attention", {in(d, {Bn, Hn, Sq, D}), in(d, {Bn, Hn, Sk, D}), in(d, {Bn, Hn, Sk, Dv})}, {1.0 / std::sqrt(double(D)), causal ? 1.0 : 0.0}};
    if (mask) c.in.push_back(in(U, {Bn, Sk}, 0, 1.3));
    cs.push_back(c);
    Case g{"attention_backward", c.in, c.attrs};
    g.in.insert(g.in.begin() + 3, {in(d, {Bn, Hn, Sq, Dv}), in(F, {Bn, Hn, Sq}), in(d, {Bn, Hn, Sq, Dv})});
    std::vector<double> attrs = c.attrs;
    g.prepare = [attrs](std::vector<ToolTensor>& t) { attention_forward_into(t, attrs); };
    cs.push_back(g);
  };
  fwd(F, 2, 3, 37, 45, 16, 24, false, false);
  fwd(F, 2, 2, 45, 45, 32, 32, true, false);
  fwd(F, 1, 2, 40, 40, 8, 8, false, true);
  fwd(B, 1, 2, 64, 64, 64, 64, true, true);
  fwd(H, 1, 1, 33, 70, 128, 128, false, false);
  // the tensor-core forward (16-bit, head dim 32/64/128): partial tiles of queries and keys
  fwd(B, 2, 3, 100, 130, 32, 32, true, false);
  fwd(H, 1, 2, 130, 130, 64, 64, false, true);
  fwd(F, 1, 1, 1, 2, 3, 5, false, false);  // (one key would make dQ exactly zero: only rounding left to compare)
}

}  // namespace

std::vector<Case> parity_cases() {
  std::vector<Case> cs;
  elementwise(cs);
  reductions(cs);
  linear_algebra(cs);
  layers(cs);
  attention(cs);
  return cs;
}

}  // namespace tf::tools
