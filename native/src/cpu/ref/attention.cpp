// Reference attention: the whole score matrix per (batch, head), in double. Masked keys (and keys
// after the query under the causal mask) get probability 0; a row with no visible key outputs 0
// and has lse = -inf.
#include <cmath>
#include <vector>
#include "tensorforge/op.h"

namespace tf::ref {
namespace {

struct Dims {
  int64_t B, H, Sq, Sk, D, Dv;
};
Dims dims(const OpCall& c) {
  const View &q = c.in[0], &v = c.in[2];
  return {q.shape[0], q.shape[1], q.shape[2], c.in[1].shape[2], q.shape[3], v.shape[3]};
}
double at(const View& t, int64_t b, int64_t h, int64_t s, int64_t d) {
  return t.get(b * t.strides[0] + h * t.strides[1] + s * t.strides[2] + d * t.strides[3]);
}
void put(const View& t, int64_t b, int64_t h, int64_t s, int64_t d, double v) {
  t.set(b * t.strides[0] + h * t.strides[1] + s * t.strides[2] + d * t.strides[3], v);
}
bool visible(const OpCall& c, size_t mask_index, int64_t b, int64_t i, int64_t j) {
  if (c.attrs[1] != 0 && j > i) return false;
  if (c.in.size() > mask_index) {
    const View& m = c.in[mask_index];
    return m.get(b * m.strides[0] + j * m.strides[1]) == 0;
  }
  return true;
}

// P[i][j] for one (b, h), and lse per row
void probs(const OpCall& c, size_t mask_index, const Dims& n, int64_t b, int64_t h, std::vector<double>& P, std::vector<double>& lse) {
  P.assign(n.Sq * n.Sk, 0.0);
  lse.assign(n.Sq, -INFINITY);
  for (int64_t i = 0; i < n.Sq; ++i) {
    double m = -INFINITY;
    for (int64_t j = 0; j < n.Sk; ++j) {
      if (!visible(c, mask_index, b, i, j)) continue;
      double s = 0;
      for (int64_t d = 0; d < n.D; ++d) s += at(c.in[0], b, h, i, d) * at(c.in[1], b, h, j, d);
      P[i * n.Sk + j] = s * c.attrs[0];
      m = std::max(m, P[i * n.Sk + j]);
    }
    if (m == -INFINITY) continue;
    double sum = 0;
    for (int64_t j = 0; j < n.Sk; ++j) sum += visible(c, mask_index, b, i, j) ? std::exp(P[i * n.Sk + j] - m) : 0.0;
    lse[i] = m + std::log(sum);
    for (int64_t j = 0; j < n.Sk; ++j) P[i * n.Sk + j] = visible(c, mask_index, b, i, j) ? std::exp(P[i * n.Sk + j] - lse[i]) : 0.0;
  }
}

void k_attention(OpCall& c) {
  Dims n = dims(c);
  std::vector<double> P, lse;
  for (int64_t b = 0; b < n.B; ++b)
    for (int64_t h = 0; h < n.H; ++h) {
      probs(c, 3, n, b, h, P, lse);
      for (int64_t i = 0; i < n.Sq; ++i) {
        for (int64_t e = 0; e < n.Dv; ++e) {
          double s = 0;
          for (int64_t j = 0; j < n.Sk; ++j) s += P[i * n.Sk + j] * at(c.in[2], b, h, j, e);
          put(c.out[0], b, h, i, e, s);
        }
        const View& l = c.out[1];
        l.set(b * l.strides[0] + h * l.strides[1] + i * l.strides[2], lse[i]);
      }
    }
}

// dV = P^T dO; dP = dO V^T; dS = P (dP - rowsum(dO o O)); dQ = scale dS K; dK = scale dS^T Q
void k_attention_backward(OpCall& c) {
  Dims n = dims(c);
  const View &q = c.in[0], &k = c.in[1], &v = c.in[2], &o = c.in[3], &go = c.in[5];
  double scale = c.attrs[0];
  std::vector<double> P, lse, dS(n.Sq * n.Sk);
  for (int64_t b = 0; b < n.B; ++b)
    for (int64_t h = 0; h < n.H; ++h) {
      probs(c, 6, n, b, h, P, lse);
      for (int64_t i = 0; i < n.Sq; ++i) {
        double Di = 0;
        for (int64_t e = 0; e < n.Dv; ++e) Di += at(go, b, h, i, e) * at(o, b, h, i, e);
        for (int64_t j = 0; j < n.Sk; ++j) {
          double dp = 0;
          for (int64_t e = 0; e < n.Dv; ++e) dp += at(go, b, h, i, e) * at(v, b, h, j, e);
          dS[i * n.Sk + j] = P[i * n.Sk + j] * (dp - Di);
        }
      }
      for (int64_t i = 0; i < n.Sq; ++i)
        for (int64_t d = 0; d < n.D; ++d) {
          double s = 0;
          for (int64_t j = 0; j < n.Sk; ++j) s += dS[i * n.Sk + j] * at(k, b, h, j, d);
          put(c.out[0], b, h, i, d, s * scale);
        }
      for (int64_t j = 0; j < n.Sk; ++j) {
        for (int64_t d = 0; d < n.D; ++d) {
          double s = 0;
          for (int64_t i = 0; i < n.Sq; ++i) s += dS[i * n.Sk + j] * at(q, b, h, i, d);
          put(c.out[1], b, h, j, d, s * scale);
        }
        for (int64_t e = 0; e < n.Dv; ++e) {
          double s = 0;
          for (int64_t i = 0; i < n.Sq; ++i) s += P[i * n.Sk + j] * at(go, b, h, i, e);
          put(c.out[2], b, h, j, e, s);
        }
      }
    }
}

TF_REGISTER_KERNEL(ref, attention, k_attention);
TF_REGISTER_KERNEL(ref, attention_backward, k_attention_backward);

}  // namespace
}  // namespace tf::ref
