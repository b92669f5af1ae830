// AVX2 float ops; see ops_avx512.cpp. Partial vectors use vmaskmovps (masked-off lanes read as
// zero and are never touched in memory), which keeps tails in the same lanes as full vectors.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "dense/register_count.h"
#include "dense_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lane mask for the first `left` (0..8) lanes, for maskload/maskstore.
inline __m256i lanes(int64_t left) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(left < 8 ? left : 8)), idx);
}

inline __m256 exp_nonpos(__m256 t) {
  const __m256 lo = _mm256_set1_ps(kExpMin);
  const __m256 keep = _mm256_cmp_ps(t, lo, _CMP_NLT_UQ);  // not below the underflow bound (or NaN)
  t = _mm256_max_ps(lo, t);                                // NaN passes (second operand)
  const __m256 fn = _mm256_round_ps(_mm256_mul_ps(t, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(kLn2Hi), t);
  r = _mm256_fnmadd_ps(fn, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP5));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fn), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), keep);
}

}  // namespace

float dot_f32_avx2(const float* a, const float* b, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
    s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
  }
  for (; i < n; i += 8) {
    const __m256i m = lanes(n - i);
    s0 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), s0);
  }
  return hsum(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

void axpy_f32_avx2(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  if (i < n) {
    const __m256i m = lanes(n - i);
    _mm256_maskstore_ps(y + i, m, _mm256_fmadd_ps(va, _mm256_maskload_ps(x + i, m), _mm256_maskload_ps(y + i, m)));
  }
}

void rms_norm_avx2(const float* x, const float* w, int64_t n, float eps, float* y) {
  if (n <= 0) return;
  // The 16-lane order of dense.h as four 4-double registers (lanes 0-3, 4-7, 8-11, 12-15).
  __m256d a0 = _mm256_setzero_pd(), a1 = a0, a2 = a0, a3 = a0;
  for (int64_t i = 0; i < n; i += 16) {
    const __m256 v0 = _mm256_maskload_ps(x + i, lanes(n - i));
    const __m256 v1 = _mm256_maskload_ps(x + i + 8, lanes(n - i - 8));
    const __m256d d0 = _mm256_cvtps_pd(_mm256_castps256_ps128(v0)), d1 = _mm256_cvtps_pd(_mm256_extractf128_ps(v0, 1));
    const __m256d d2 = _mm256_cvtps_pd(_mm256_castps256_ps128(v1)), d3 = _mm256_cvtps_pd(_mm256_extractf128_ps(v1, 1));
    a0 = _mm256_fmadd_pd(d0, d0, a0);
    a1 = _mm256_fmadd_pd(d1, d1, a1);
    a2 = _mm256_fmadd_pd(d2, d2, a2);
    a3 = _mm256_fmadd_pd(d3, d3, a3);
  }
  const __m256d s4 = _mm256_add_pd(_mm256_add_pd(a0, a2), _mm256_add_pd(a1, a3));  // (p+p8) + (p4+p12)
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  const double ss = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  const float inv = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(float(ss / double(n)) + eps)));
  const __m256 vinv = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(w + i), _mm256_mul_ps(_mm256_loadu_ps(x + i), vinv)));
  if (i < n) {
    const __m256i m = lanes(n - i);
    _mm256_maskstore_ps(y + i, m, _mm256_mul_ps(_mm256_maskload_ps(w + i, m), _mm256_mul_ps(_mm256_maskload_ps(x + i, m), vinv)));
  }
}

void softmax_avx2(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  {
    __m256 vmax = _mm256_set1_ps(x[0]);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    mx = _mm_cvtss_f32(m4);
    for (; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  }
  const __m256 vmx = _mm256_set1_ps(mx);
  __m256d s0 = _mm256_setzero_pd(), s1 = s0;
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes(n - i);
    const __m256 t = _mm256_min_ps(_mm256_setzero_ps(), _mm256_sub_ps(_mm256_maskload_ps(x + i, m), vmx));
    const __m256 e = _mm256_and_ps(exp_nonpos(t), _mm256_castsi256_ps(m));
    _mm256_maskstore_ps(x + i, m, e);
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
  }
  const __m256d s4 = _mm256_add_pd(s0, s1);
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  const double sum = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  const __m256 inv = _mm256_set1_ps(float(1.0 / sum));
  for (int64_t i = 0; i < n; i += 8) {
    const __m256i m = lanes(n - i);
    _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inv));
  }
}

void attn_scores_avx2(const float* q, const float* k, int64_t ldk, int64_t n_pos, int64_t hd, float scale,
                      float* s) {
  int64_t j = 0;
  for (; j + 4 <= n_pos; j += 4) {
    const float* k0 = k + j * ldk;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < hd; i += 8) {
      const __m256i m = lanes(hd - i);
      const __m256 qv = _mm256_maskload_ps(q + i, m);
      a0 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + i, m), a0);
      a1 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + ldk + i, m), a1);
      a2 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + 2 * ldk + i, m), a2);
      a3 = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k0 + 3 * ldk + i, m), a3);
    }
    s[j] = scale * hsum(a0);
    s[j + 1] = scale * hsum(a1);
    s[j + 2] = scale * hsum(a2);
    s[j + 3] = scale * hsum(a3);
  }
  for (; j < n_pos; ++j) s[j] = scale * dot_f32_avx2(q, k + j * ldk, hd);
}

// Outputs [0, 8 * U) of one pass over the positions (the last register masked by `last`): U
// independent FMA chains, and every output still sums its positions in order, as the scalar twin does.
template <int U>
inline void values_pass(const float* p, const float* v, int64_t ldv, int64_t n_pos, __m256i last, float* out) {
  const __m256i all = _mm256_set1_epi32(-1);
  __m256 acc[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) acc[u] = _mm256_maskload_ps(out + 8 * u, u == U - 1 ? last : all);
  for (int64_t j = 0; j < n_pos; ++j) {
    const __m256 pj = _mm256_set1_ps(p[j]);
    const float* vj = v + j * ldv;
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u) {
      const __m256 vv = u == U - 1 ? _mm256_maskload_ps(vj + 8 * u, last) : _mm256_loadu_ps(vj + 8 * u);
      acc[u] = _mm256_fmadd_ps(pj, vv, acc[u]);
    }
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) _mm256_maskstore_ps(out + 8 * u, u == U - 1 ? last : all, acc[u]);
}

void attn_values_avx2(const float* p, const float* v, int64_t ldv, int64_t n_pos, int64_t hd, float* out) {
  // 64 outputs (8 registers) per pass; the rest in one more pass of up to 8 registers, not one
  // single-chain pass per 8 outputs.
  int64_t i = 0;
  for (; i + 64 <= hd; i += 64) values_pass<8>(p, v + i, ldv, n_pos, _mm256_set1_epi32(-1), out + i);
  const int64_t left = hd - i;
  if (left <= 0) return;
  const int regs = int((left + 7) / 8);
  const __m256i last = lanes(left - 8 * (regs - 1));
  with_register_count<8>(regs, [&](auto u) { values_pass<decltype(u)::value>(p, v + i, ldv, n_pos, last, out + i); });
}

uint64_t byte_sum_avx2(const uint8_t* p, size_t n) {
  // vpsadbw against zero sums 8 bytes into each 64-bit lane; four interleaved sequential streams
  // (the quarters of [0, n)), which read faster than one (see byte_sum_avx512).
  const __m256i zero = _mm256_setzero_si256();
  __m256i acc[4][2];
  for (auto& a : acc) a[0] = a[1] = zero;
  const size_t q = n / 4 / 64 * 64;
  for (size_t i = 0; i < q; i += 64) {
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
      const uint8_t* src = p + size_t(s) * q + i;
      acc[s][0] = _mm256_add_epi64(acc[s][0], _mm256_sad_epu8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)), zero));
      acc[s][1] = _mm256_add_epi64(acc[s][1], _mm256_sad_epu8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 32)), zero));
    }
  }
  __m256i a = zero;
  for (auto& s : acc) a = _mm256_add_epi64(a, _mm256_add_epi64(s[0], s[1]));
  alignas(32) uint64_t lanes[4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), a);
  uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
  for (size_t i = 4 * q; i < n; ++i) sum += p[i];
  return sum;
}

void f16_to_f32_avx2(const uint16_t* h, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
  if (i < n) {
    alignas(16) uint16_t tmp[8] = {};
    alignas(32) float wide[8];
    for (int64_t j = i; j < n; ++j) tmp[j - i] = h[j];
    _mm256_store_ps(wide, _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp))));
    for (int64_t j = i; j < n; ++j) out[j] = wide[j - i];
  }
}

void kv_dequant_avx2(const uint8_t* codes, int64_t n, int bits, float scale, float* out) {
  const __m256 sv = _mm256_set1_ps(scale);
  int64_t i = 0;
  if (bits == 8) {
    for (; i + 8 <= n; i += 8) {
      const __m256i q = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i)));
      _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(q), sv));
    }
    for (; i < n; ++i) out[i] = float(static_cast<int8_t>(codes[i])) * scale;
    return;
  }
  // 8 codes are one little-endian word of `bits` bytes: broadcast it and shift each lane by its
  // code's bit offset.
  const __m256i shift = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32(bits));
  const __m256i code_mask = _mm256_set1_epi32((1 << bits) - 1);
  const __m256i offset = _mm256_set1_epi32(1 << (bits - 1));
  for (; i < n; i += 8) {
    const int64_t left = n - i;
    // Only the bytes of the row: 4 bits, ceil(left / 2) in a partial group; 3 bits, always 3.
    const int64_t bytes = bits == 3 ? 3 : (left >= 8 ? 4 : (left + 1) / 2);
    uint32_t word = 0;
    std::memcpy(&word, codes + i / 8 * bits, size_t(bytes));
    __m256i q = _mm256_srlv_epi32(_mm256_set1_epi32(static_cast<int>(word)), shift);
    q = _mm256_sub_epi32(_mm256_and_si256(q, code_mask), offset);
    const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(q), sv);
    if (left >= 8) {
      _mm256_storeu_ps(out + i, v);
    } else {
      alignas(32) float tmp[8];
      _mm256_store_ps(tmp, v);
      std::memcpy(out + i, tmp, size_t(left) * sizeof(float));
    }
  }
}
}  // namespace bitnet::kernels::detail
