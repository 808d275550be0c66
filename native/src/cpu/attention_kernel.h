// The flash-attention loops, written so the compiler vectorises them, and compiled once per ISA
// (attention_avx512.cpp, attention_avx2.cpp, attention.cpp for baseline x86-64): the includer
// defines TF_ATTN_NS. Forward: per (batch, head), per block of kBr queries, the K/V tiles of kBc keys
// with an online softmax over the scores held transposed (a row per key), never more than a kBc x
// kBr score tile; saves lse = m + log(l). Backward: per (batch, head), per key tile, recompute
// P = exp(S - lse) and accumulate dQ, dK, dV.
#include <cmath>
#include <cstdint>
#include <cstring>
#include "attention_problem.h"
#include "vector_math.h"
#ifdef __AVX512BF16__
#include <immintrin.h>
#include "tensorforge/gemm.h"
#endif

namespace tf::cpu::TF_ATTN_NS {

// With AVX-512's 32 vector registers, blocks of 8 rows (16 accumulators and their operands) fit:
// twice the multiply-adds per load of the 4-row blocks that the 16 AVX2 registers hold.
#ifdef __AVX512F__
constexpr bool kManyRegisters = true;
#else
constexpr bool kManyRegisters = false;
#endif

// RB rows of S = q k^T over `cols` columns (a multiple of 32; S's rows are cols long), 32 columns at
// a time, in registers; q's rows are ldq apart, kt's rows (one per d) ldk apart
template <int RB>
static inline void score_rows(const float* q, int64_t ldq, const float* kt, int64_t ldk, int64_t D, int64_t cols, float* S) {
  for (int64_t h = 0; h < cols; h += 32) {
    V16 acc[RB][2] = {};
    for (int64_t d = 0; d < D; ++d) {
      const V16 k0 = vload(kt + d * ldk + h), k1 = vload(kt + d * ldk + h + 16);
      for (int r = 0; r < RB; ++r) {
        const float qd = q[r * ldq + d];
        acc[r][0] += qd * k0;
        acc[r][1] += qd * k1;
      }
    }
    for (int r = 0; r < RB; ++r) {
      vstore(S + r * cols + h, acc[r][0]);
      vstore(S + r * cols + h + 16, acc[r][1]);
    }
  }
}

// S[r][c] = q_r . k_c for `rows` rows (q's rows ldq apart) and `cols` columns, a multiple of 32
// (S's rows are cols long); kt holds the columns' vectors transposed (rows ldk apart), zero-padded
static inline void tile_scores(const float* q, int64_t ldq, int64_t rows, const float* kt, int64_t ldk, int64_t D, int64_t cols, float* S) {
  int64_t r = 0;
  if constexpr (kManyRegisters)
    for (; r + 8 <= rows; r += 8) score_rows<8>(q + r * ldq, ldq, kt, ldk, D, cols, S + r * cols);
  for (; r + 4 <= rows; r += 4) score_rows<4>(q + r * ldq, ldq, kt, ldk, D, cols, S + r * cols);
  for (; r < rows; ++r) score_rows<1>(q + r * ldq, ldq, kt, ldk, D, cols, S + r * cols);
}

// acc[r] += sum_i P(r, i) x_i for RB rows, P(r, i) = P[r rs + i is], x's rows ldx apart, width =
// 16 NV, in registers
template <int NV, int RB>
static inline void accumulate_rows(const float* P, int64_t rs, int64_t is, int64_t inner, const float* x, int64_t ldx, float* acc) {
  constexpr int64_t W = 16 * NV;
  V16 a[RB][NV];
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NV; ++n) a[r][n] = vload(acc + r * W + 16 * n);
  for (int64_t i = 0; i < inner; ++i) {
    V16 xi[NV];
    for (int n = 0; n < NV; ++n) xi[n] = vload(x + i * ldx + 16 * n);
    for (int r = 0; r < RB; ++r) {
      const float pri = P[r * rs + i * is];
      for (int n = 0; n < NV; ++n) a[r][n] += pri * xi[n];
    }
  }
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NV; ++n) vstore(acc + r * W + 16 * n, a[r][n]);
}

template <int NV>
static inline void accumulate_block(const float* P, int64_t rs, int64_t is, int64_t rows, int64_t inner, const float* x, int64_t ldx, float* acc) {
  int64_t r = 0;
  if constexpr (kManyRegisters && NV <= 2)
    for (; r + 8 <= rows; r += 8) accumulate_rows<NV, 8>(P + r * rs, rs, is, inner, x, ldx, acc + r * 16 * NV);
  for (; r + 4 <= rows; r += 4) accumulate_rows<NV, 4>(P + r * rs, rs, is, inner, x, ldx, acc + r * 16 * NV);
  for (; r < rows; ++r) accumulate_rows<NV, 1>(P + r * rs, rs, is, inner, x, ldx, acc + r * 16 * NV);
}

// acc[rows x width] += P[rows x inner] X[inner x width], P read through strides (rs, is) so the
// same loop does P V and dS K (P as stored) and P^T dO and dS^T Q (P transposed); X's rows are ldx
// apart, acc's contiguous, width apart.
static inline void accumulate(const float* P, int64_t rs, int64_t is, int64_t rows, int64_t inner, const float* x, int64_t ldx, int64_t width, float* acc) {
  switch (width) {
    case 16: return accumulate_block<1>(P, rs, is, rows, inner, x, ldx, acc);
    case 32: return accumulate_block<2>(P, rs, is, rows, inner, x, ldx, acc);
    case 48: return accumulate_block<3>(P, rs, is, rows, inner, x, ldx, acc);
    case 64: return accumulate_block<4>(P, rs, is, rows, inner, x, ldx, acc);
    default:
      for (int64_t r = 0; r < rows; ++r) {
        float* a = acc + r * width;
        for (int64_t i = 0; i < inner; ++i) {
          const float pri = P[r * rs + i * is];
          const float* xi = x + i * ldx;
#pragma omp simd
          for (int64_t e = 0; e < width; ++e) a[e] += pri * xi[e];
        }
      }
  }
}

// -inf where a key is padding, after its query (causal), or past the tile's bc keys, in the
// backward's S[query][key] orientation (kBc columns)
static inline void apply_mask(const Problem& p, int64_t b, int64_t i0, int64_t br, int64_t j0, int64_t bc, float* S) {
  for (int64_t r = 0; r < br; ++r) {
    float* s = S + r * kBc;
    for (int64_t j = bc; j < kBc; ++j) s[j] = -INFINITY;
    if (p.mask)
      for (int64_t j = 0; j < bc; ++j)
        if (p.mask[b * p.Sk + j0 + j]) s[j] = -INFINITY;
    if (p.causal)
      for (int64_t j = 0; j < bc; ++j)
        if (j0 + j > i0 + r) s[j] = -INFINITY;
  }
}

// kt[d][j] = x[j0 + j][d] for bc keys (x's rows ldx apart), rows ld long (zero-padded)
static inline void transpose_tile(const float* x, int64_t ldx, int64_t j0, int64_t bc, int64_t D, float* kt, int64_t ld) {
  for (int64_t d = 0; d < D; ++d) {
    float* row = kt + d * ld;
    for (int64_t j = 0; j < bc; ++j) row[j] = x[(j0 + j) * ldx + d];
    for (int64_t j = bc; j < ld; ++j) row[j] = 0.0f;
  }
}

constexpr int NQ = kBr / 16;  // vectors across a block's queries

// -inf in a tile of S^T (bc rows of kBr, one per key from j0) where a key is padding or after its
// query (causal), for the block of queries from i0 of batch element b
static inline void mask_keys(const Problem& p, int64_t b, int64_t i0, int64_t j0, int64_t bc, float* S) {
  for (int64_t j = 0; j < bc; ++j) {
    float* s = S + j * kBr;
    if (p.mask && p.mask[b * p.Sk + j0 + j]) std::fill(s, s + kBr, -INFINITY);
    else if (p.causal)
      for (int64_t r = 0; r < std::min(kBr, j0 + j - i0); ++r) s[r] = -INFINITY;  // key after query
  }
}

// The online softmax of a block of queries, its running max and sum held as NQ vectors across the
// queries: no horizontal reduction per query.
struct OnlineSoftmax {
  V16 m[NQ], l[NQ];
  OnlineSoftmax() {
    for (int n = 0; n < NQ; ++n) {
      m[n] = V16{} - INFINITY;
      l[n] = V16{};
    }
  }
  // a masked tile of scores S^T (bc rows of kBr) becomes P = exp(S - running max) in place; c[r]:
  // the factor for what query r accumulated from earlier tiles
  template <V16 (*Exp)(V16) = vexp<V16>>
  void tile(float* S, int64_t bc, float* c) {
    V16 mx[NQ], base[NQ], corr[NQ], sum[NQ];
    for (int n = 0; n < NQ; ++n) mx[n] = m[n];
    for (int64_t j = 0; j < bc; ++j)
      for (int n = 0; n < NQ; ++n) {
        const V16 s = vload(S + j * kBr + 16 * n);
        mx[n] = s > mx[n] ? s : mx[n];
      }
    for (int n = 0; n < NQ; ++n) {
      base[n] = mx[n] == -INFINITY ? V16{} : mx[n];  // a query with no visible key yet: P = 0, not NaN
      corr[n] = vexp(m[n] - base[n]);
      sum[n] = V16{};
    }
    for (int64_t j = 0; j < bc; ++j)
      for (int n = 0; n < NQ; ++n) {
        float* s = S + j * kBr + 16 * n;
        const V16 e = Exp(vload(s) - base[n]);
        vstore(s, e);
        sum[n] += e;
      }
    for (int n = 0; n < NQ; ++n) {
      l[n] = l[n] * corr[n] + sum[n];
      m[n] = mx[n];
      vstore(c + 16 * n, corr[n]);
    }
  }
  // acc (br rows of Dv) divided by the sums, row by row to put(r, row, 1 / sum); lse = max + log(sum)
  template <class Put>
  void finish(int64_t br, const float* acc, int64_t Dv, float* lse, Put put) const {
    float lv[kBr], mv[kBr];
    for (int n = 0; n < NQ; ++n) {
      vstore(lv + 16 * n, l[n]);
      vstore(mv + 16 * n, m[n]);
    }
    for (int64_t r = 0; r < br; ++r) {
      put(r, acc + r * Dv, lv[r] > 0.0f ? 1.0f / lv[r] : 0.0f);
      lse[r] = lv[r] > 0.0f ? mv[r] + std::log(lv[r]) : -INFINITY;
    }
  }
};

// acc rows r < br times c[r]: after the first tile, rescale what the earlier tiles accumulated
static inline void rescale(float* acc, int64_t br, int64_t Dv, const float* c) {
  for (int64_t r = 0; r < br; ++r)
    for (int64_t e = 0; e < Dv; ++e) acc[r * Dv + e] *= c[r];
}

// One block of kBr queries from i0 of the head whose rows start at qh, kh, vh and oh. The scores of
// a tile are held transposed, S^T (a row per key, a column per query), computed from the keys' rows
// against the block's queries transposed once, so the online softmax runs down the columns in
// vector registers, and K is read in place.
static void forward_block(const Problem& p, const float* qh, int64_t ldq, const float* kh, int64_t ldk, const float* vh, int64_t ldv, float* oh,
                          int64_t ldo, float* lse, int64_t bh, int64_t i0, Scratch& w) {
  static_assert(kBr % 32 == 0, "tile_scores computes 32 columns at a time");
  const int64_t b = bh / p.H, br = std::min(kBr, p.Sq - i0), D = p.D, Dv = p.Dv;
  float* qt = w.q;  // qt[d][r] = q[i0 + r][d] * scale, zero past br
  for (int64_t r = 0; r < kBr; ++r)
    for (int64_t d = 0; d < D; ++d) qt[d * kBr + r] = r < br ? qh[(i0 + r) * ldq + d] * p.scale : 0.0f;
  OnlineSoftmax sm;
  std::fill(w.acc, w.acc + kBr * Dv, 0.0f);
  // causal: keys past the block's last query are masked for all of its queries
  const int64_t end = p.causal ? std::min(p.Sk, i0 + br) : p.Sk;
  for (int64_t j0 = 0; j0 < end; j0 += kBc) {
    const int64_t bc = std::min(kBc, end - j0);
    tile_scores(kh + j0 * ldk, ldk, bc, qt, kBr, D, kBr, w.S);
    mask_keys(p, b, i0, j0, bc, w.S);
    float c[kBr];
    sm.tile(w.S, bc, c);
    if (j0 > 0) rescale(w.acc, br, Dv, c);
    accumulate(w.S, 1, kBr, br, bc, vh + j0 * ldv, ldv, Dv, w.acc);  // acc += P V
  }
  sm.finish(br, w.acc, Dv, lse + bh * p.Sq + i0, [&](int64_t r, const float* a, float inv) {
    float* out = oh + (i0 + r) * ldo;
    for (int64_t e = 0; e < Dv; ++e) out[e] = a[e] * inv;
  });
}

void forward(const Problem& p, InRows q, InRows k, InRows v, OutRows o, float* lse, int64_t bh, Scratch& w) {
  for (int64_t i0 = 0; i0 < p.Sq; i0 += kBr)
    forward_block(p, q.head(bh, p.H), q.ss, k.head(bh, p.H), k.ss, v.head(bh, p.H), v.ss, o.head(bh, p.H), o.ss, lse, bh, i0, w);
}

#ifdef __AVX512BF16__
// bfloat16 q, k, v: the two products as VDPBF16PS dot products of bf16 pairs (exact products,
// float32 sums), the softmax in float32 as above; P is rounded to bf16 for P V, and the output to
// bf16. Needs D even and Dv 16, 32 or 64 (bf16_fits).

// exp(x) for x <= 0 within 1e-4 relative, for P that is rounded to bf16 (2^-9) anyway: 2^(x log2 e)
// as 2^n (vscalefps) times a degree-3 polynomial in the fraction (max error 7.5e-5), ~8 operations to
// vexp's ~16; below 2^-160 (masked keys: -inf) exactly 0
static inline V16 exp_for_bf16(V16 x) {
  // maskz_ forms with a full mask: the plain intrinsics' undefined pass-through trips GCC 12's
  // -Wmaybe-uninitialized (PR105593)
  constexpr __mmask16 all = 0xffff;
  V16 tv = x * 1.44269504f;
  tv = tv < -160.0f ? V16{} - 160.0f : tv;
  const __m512 t = reinterpret_cast<__m512&>(tv);
  const __m512 n = _mm512_maskz_roundscale_ps(all, t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC), f = _mm512_sub_ps(t, n);  // f in [0, 1)
  __m512 p = _mm512_fmadd_ps(_mm512_set1_ps(7.8024521e-2f), f, _mm512_set1_ps(2.2606716e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(6.9583356e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(9.9992520e-1f));
  const __m512 e = _mm512_maskz_scalef_ps(all, p, n);
  return reinterpret_cast<const V16&>(e);
}

// RB rows of S^T (keys from kh, rows ldk apart) against the block's query pairs qp[D/2][kBr], times
// scale, into S (rows kBr long)
template <int RB>
static inline void score_rows_bf16(const uint16_t* kh, int64_t ldk, const uint32_t* qp, int64_t D2, float scale, float* S) {
  __m512 acc[RB][NQ];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NQ; ++n) acc[r][n] = _mm512_setzero_ps();
  for (int64_t dp = 0; dp < D2; ++dp) {
    __m512bh qv[NQ];
    for (int n = 0; n < NQ; ++n) qv[n] = (__m512bh)_mm512_loadu_si512(qp + dp * kBr + 16 * n);
    for (int r = 0; r < RB; ++r) {
      uint32_t pair;
      std::memcpy(&pair, kh + r * ldk + 2 * dp, 4);
      const __m512bh kv = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
      for (int n = 0; n < NQ; ++n) acc[r][n] = _mm512_dpbf16_ps(acc[r][n], kv, qv[n]);
    }
  }
  const __m512 sc = _mm512_set1_ps(scale);
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NQ; ++n) _mm512_storeu_ps(S + r * kBr + 16 * n, _mm512_mul_ps(acc[r][n], sc));
}

// acc[r][e] += sum_jp P pair (jp, r) . V pair (jp, e) for RB query rows: pp[jp][kBr] the P pairs,
// vp[jp][32 * panels] the V pairs (panel of 32 columns n / 2, half n % 2)
template <int NV, int RB>
static inline void accumulate_rows_bf16(const uint32_t* pp, int64_t jps, const uint32_t* vp, int64_t vps, float* acc) {
  constexpr int64_t W = 16 * NV;
  __m512 a[RB][NV];
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NV; ++n) a[r][n] = _mm512_loadu_ps(acc + r * W + 16 * n);
  for (int64_t jp = 0; jp < jps; ++jp) {
    __m512bh x[NV];
    for (int n = 0; n < NV; ++n) x[n] = (__m512bh)_mm512_loadu_si512(vp + (n / 2) * vps + jp * 32 + (n % 2) * 16);
    for (int r = 0; r < RB; ++r) {
      const __m512bh pv = (__m512bh)_mm512_set1_epi32(static_cast<int>(pp[jp * kBr + r]));
      for (int n = 0; n < NV; ++n) a[r][n] = _mm512_dpbf16_ps(a[r][n], pv, x[n]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < RB; ++r)
    for (int n = 0; n < NV; ++n) _mm512_storeu_ps(acc + r * W + 16 * n, a[r][n]);
}

template <int NV>
static inline void accumulate_bf16(const uint32_t* pp, int64_t rows, int64_t jps, const uint32_t* vp, int64_t vps, float* acc) {
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8) accumulate_rows_bf16<NV, 8>(pp + r, jps, vp, vps, acc + r * 16 * NV);
  for (; r < rows; ++r) accumulate_rows_bf16<NV, 1>(pp + r, jps, vp, vps, acc + r * 16 * NV);
}

// One block of kBr queries, as forward_block. vp: the head's V as pairs of keys, panels of 32
// columns vps apart (pack_v_pairs).
static void forward_block_bf16(const Problem& p, const uint16_t* qh, int64_t ldq, const uint16_t* kh, int64_t ldk, const uint32_t* vp, int64_t vps,
                               uint16_t* oh, int64_t ldo, float* lse, int64_t bh, int64_t i0, ScratchBf16& w) {
  const int64_t b = bh / p.H, br = std::min(kBr, p.Sq - i0), D2 = p.D / 2, Dv = p.Dv;
  for (int64_t dp = 0; dp < D2; ++dp)  // qp[dp][r] = q[i0 + r][2 dp, 2 dp + 1], zero past br
    for (int64_t r = 0; r < kBr; ++r) {
      uint32_t pair = 0;
      if (r < br) std::memcpy(&pair, qh + (i0 + r) * ldq + 2 * dp, 4);
      w.qp[dp * kBr + r] = pair;
    }
  OnlineSoftmax sm;
  std::fill(w.acc, w.acc + kBr * Dv, 0.0f);
  // element 2 r of a pair vector is key j's P for query r, 2 r + 1 key j + 1's
  alignas(64) static const uint16_t interleave[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                                      8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
  const __m512i order = _mm512_load_si512(interleave);
  const int64_t end = p.causal ? std::min(p.Sk, i0 + br) : p.Sk;
  for (int64_t j0 = 0; j0 < end; j0 += kBc) {
    const int64_t bc = std::min(kBc, end - j0);
    const uint16_t* kt = kh + j0 * ldk;
    int64_t j = 0;
    for (; j + 8 <= bc; j += 8) score_rows_bf16<8>(kt + j * ldk, ldk, w.qp, D2, p.scale, w.S + j * kBr);
    for (; j < bc; ++j) score_rows_bf16<1>(kt + j * ldk, ldk, w.qp, D2, p.scale, w.S + j * kBr);
    mask_keys(p, b, i0, j0, bc, w.S);
    float c[kBr];
    sm.tile<exp_for_bf16>(w.S, bc, c);
    if (j0 > 0) rescale(w.acc, br, Dv, c);
    const int64_t jps = (bc + 1) / 2;
    for (int64_t jp = 0; jp < jps; ++jp)  // P as bf16 pairs of keys, a key past bc counting 0
      for (int n = 0; n < NQ; ++n) {
        const __m512 e0 = _mm512_loadu_ps(w.S + 2 * jp * kBr + 16 * n);
        const __m512 e1 = 2 * jp + 1 < bc ? _mm512_loadu_ps(w.S + (2 * jp + 1) * kBr + 16 * n) : _mm512_setzero_ps();
        _mm512_storeu_si512(w.pp + jp * kBr + 16 * n, _mm512_permutexvar_epi16(order, (__m512i)_mm512_cvtne2ps_pbh(e1, e0)));
      }
    const uint32_t* vt = vp + j0 / 2 * 32;  // j0 is even: tiles start on a pair
    switch (Dv) {
      case 16: accumulate_bf16<1>(w.pp, br, jps, vt, vps, w.acc); break;
      case 32: accumulate_bf16<2>(w.pp, br, jps, vt, vps, w.acc); break;
      default: accumulate_bf16<4>(w.pp, br, jps, vt, vps, w.acc); break;
    }
  }
  sm.finish(br, w.acc, Dv, lse + bh * p.Sq + i0, [&](int64_t r, const float* a, float inv) {
    uint16_t* out = oh + (i0 + r) * ldo;
    for (int64_t e = 0; e < Dv; e += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + e), (__m256i)_mm512_cvtneps_pbh(_mm512_mul_ps(_mm512_loadu_ps(a + e), _mm512_set1_ps(inv))));
  });
}

// V of head bh as bf16 pairs of keys for P V: panel t (32 columns) at vp + t * vps, [Sk / 2][32]
static void pack_v_pairs(const Problem& p, BInRows v, int64_t bh, uint32_t* vp, int64_t vps) {
  const uint16_t* vh = v.head(bh, p.H);
  for (int64_t t = 0; t * 32 < p.Dv; ++t)
    gemm::pack_panel32_bf16_pairs_avx512(vh + t * 32, v.ss, static_cast<int>(std::min<int64_t>(32, p.Dv - t * 32)), p.Sk,
                                         reinterpret_cast<uint16_t*>(vp + t * vps));
}

void forward_bf16(const Problem& p, BInRows q, BInRows k, BInRows v, BOutRows o, float* lse, int64_t bh, ScratchBf16& w) {
  const int64_t vps = (p.Sk + 1) / 2 * 32;
  pack_v_pairs(p, v, bh, w.vp, vps);
  for (int64_t i0 = 0; i0 < p.Sq; i0 += kBr)
    forward_block_bf16(p, q.head(bh, p.H), q.ss, k.head(bh, p.H), k.ss, w.vp, vps, o.head(bh, p.H), o.ss, lse, bh, i0, w);
}
#endif

// dq, dk and dv: contiguous (B, H, S, width)
void backward(const Problem& p, InRows q, InRows k, InRows v, InRows go, const float* lse, const float* dsum,
              float* dq, float* dk, float* dv, int64_t bh, Scratch& w) {
  const int64_t b = bh / p.H, D = p.D, Dv = p.Dv;
  const float *qh = q.head(bh, p.H), *kh = k.head(bh, p.H), *vh = v.head(bh, p.H), *gh = go.head(bh, p.H);
  const float *lh = lse + bh * p.Sq, *dh = dsum + bh * p.Sq;
  float *dqh = dq + bh * p.Sq * D, *dkh = dk + bh * p.Sk * D, *dvh = dv + bh * p.Sk * Dv;
  for (int64_t j0 = 0; j0 < p.Sk; j0 += kBc) {
    const int64_t bc = std::min(kBc, p.Sk - j0);
    transpose_tile(kh, k.ss, j0, bc, D, w.kt, kBc);
    transpose_tile(vh, v.ss, j0, bc, Dv, w.vt, kBc);
    for (int64_t i0 = p.causal ? j0 / kBr * kBr : 0; i0 < p.Sq; i0 += kBr) {
      const int64_t br = std::min(kBr, p.Sq - i0);
      for (int64_t r = 0; r < br; ++r)
        for (int64_t d = 0; d < D; ++d) w.q[r * D + d] = qh[(i0 + r) * q.ss + d] * p.scale;
      tile_scores(w.q, D, br, w.kt, kBc, D, kBc, w.S);
      apply_mask(p, b, i0, br, j0, bc, w.S);
      tile_scores(gh + i0 * go.ss, go.ss, br, w.vt, kBc, Dv, kBc, w.dP);  // dP = dO V^T
      for (int64_t r = 0; r < br; ++r) {
        float *s = w.S + r * kBc, *dp = w.dP + r * kBc;
        const float l = lh[i0 + r], di = dh[i0 + r];
        if (l == -INFINITY) {
          for (int64_t j = 0; j < kBc; ++j) s[j] = dp[j] = 0.0f;
          continue;
        }
#pragma omp simd
        for (int64_t j = 0; j < kBc; ++j) {
          s[j] = vexp(s[j] - l);                       // P
          dp[j] = s[j] * (dp[j] - di) * p.scale;       // dS, with the scale of Q K^T folded in
        }
      }
      accumulate(w.S, 1, kBc, bc, br, gh + i0 * go.ss, go.ss, Dv, dvh + j0 * Dv);  // dV += P^T dO
      accumulate(w.dP, 1, kBc, bc, br, qh + i0 * q.ss, q.ss, D, dkh + j0 * D);      // dK += dS^T Q
      accumulate(w.dP, kBc, 1, br, bc, kh + j0 * k.ss, k.ss, D, dqh + i0 * D);      // dQ += dS K
    }
  }
}

}  // namespace tf::cpu::TF_ATTN_NS
