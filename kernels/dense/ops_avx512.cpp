// AVX-512 float ops: dot/axpy, RMSNorm (double sum of squares in the fixed 16-lane order of
// dense.h, so bit-identical to the scalar twin), softmax with a polynomial exp, and the attention
// loops over an f32 KV cache.
#include <immintrin.h>

// GCC 12 bug 105593: its AVX-512 cast/extract intrinsics use _mm256_undefined_*(), which
// -Wuninitialized flags in some inlining contexts.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstdint>

#include "dense/register_count.h"
#include "dense_registry.h"

namespace bitnet::kernels::detail {
namespace {

// Manual reductions with zero-masked extracts: GCC 12 warns about its own _mm256_undefined_*()
// inside _mm512_reduce_* and the unmasked extracts.
inline float hsum_ps(__m512 v) {
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, _mm512_castps_pd(v), 1)));
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(s, _mm_movehdup_ps(s)));
}

inline __mmask16 mask16(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}


// exp(t) for t <= 0 (NaN passes through), see dense_registry.h.
inline __m512 exp_nonpos(__m512 t) {
  const __m512 lo = _mm512_set1_ps(kExpMin);
  const __mmask16 under = _mm512_cmp_ps_mask(t, lo, _CMP_LT_OQ);
  t = _mm512_max_ps(lo, t);  // second operand returned for NaN
  const __m512 fn = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(kLog2e)),
                                         _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(kLn2Hi), t);
  r = _mm512_fnmadd_ps(fn, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpP0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP5));
  p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(fn), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(static_cast<__mmask16>(~under), p, _mm512_castsi512_ps(e));
}

}  // namespace

float dot_f32_avx512(const float* a, const float* b, int64_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    s2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), s2);
    s3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), s3);
  }
  for (; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s0);
  }
  return hsum_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}

void axpy_f32_avx512(float a, const float* x, float* y, int64_t n) {
  const __m512 va = _mm512_set1_ps(a);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    _mm512_mask_storeu_ps(y + i, m, _mm512_fmadd_ps(va, _mm512_maskz_loadu_ps(m, x + i), _mm512_maskz_loadu_ps(m, y + i)));
  }
}

void rms_norm_avx512(const float* x, const float* w, int64_t n, float eps, float* y) {
  if (n <= 0) return;
  // Lanes 0-7 of the 16-lane order in lo, 8-15 in hi; float*float is exact in double, so fmadd_pd
  // rounds exactly like the scalar twin's multiply-then-add.
  __m512d lo = _mm512_setzero_pd(), hi = lo;
  for (int64_t i = 0; i < n; i += 16) {
    const __m512 v = _mm512_maskz_loadu_ps(mask16(n - i), x + i);
    const __m512d a = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
    const __m512d b = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, _mm512_castps_pd(v), 1)));
    lo = _mm512_fmadd_pd(a, a, lo);
    hi = _mm512_fmadd_pd(b, b, hi);
  }
  const __m512d s8 = _mm512_add_pd(lo, hi);
  const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_maskz_extractf64x4_pd(0xff, s8, 1));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  const double ss = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  const float inv = 1.0f / _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(float(ss / double(n)) + eps)));
  const __m512 vinv = _mm512_set1_ps(inv);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, w + i), _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), vinv));
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}

void softmax_avx512(float* x, int64_t n) {
  if (n <= 0) return;
  __m512 vmax = _mm512_set1_ps(x[0]);
  for (int64_t i = 0; i < n; i += 16)
    vmax = _mm512_mask_max_ps(vmax, mask16(n - i), vmax, _mm512_maskz_loadu_ps(mask16(n - i), x + i));
  const __m256 h = _mm256_max_ps(_mm512_castps512_ps256(vmax), _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, _mm512_castps_pd(vmax), 1)));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  const __m512 mx = _mm512_set1_ps(_mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4))));
  __m512d sum_lo = _mm512_setzero_pd(), sum_hi = sum_lo;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    // x - max <= 0 exactly; min(0, .) only guards it and passes NaN (second operand).
    const __m512 t = _mm512_min_ps(_mm512_setzero_ps(), _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), mx));
    const __m512 e = _mm512_maskz_mov_ps(m, exp_nonpos(t));
    _mm512_mask_storeu_ps(x + i, m, e);
    sum_lo = _mm512_add_pd(sum_lo, _mm512_cvtps_pd(_mm512_castps512_ps256(e)));
    sum_hi = _mm512_add_pd(sum_hi, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, _mm512_castps_pd(e), 1))));
  }
  const __m512d s8 = _mm512_add_pd(sum_lo, sum_hi);
  const __m256d s4 = _mm256_add_pd(_mm512_castpd512_pd256(s8), _mm512_maskz_extractf64x4_pd(0xff, s8, 1));
  const __m128d s2 = _mm_add_pd(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));
  const double sum = _mm_cvtsd_f64(_mm_add_sd(s2, _mm_unpackhi_pd(s2, s2)));
  const __m512 inv = _mm512_set1_ps(float(1.0 / sum));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inv));
  }
}

// Lane r of the result = the sum of a_r's 16 lanes (one transpose-and-add tree for all four, where
// four separate horizontal sums would cost four times the shuffles).
inline __m128 hsum4_ps(__m512 a0, __m512 a1, __m512 a2, __m512 a3) {
  const __m512 t0 = _mm512_add_ps(_mm512_unpacklo_ps(a0, a1), _mm512_unpackhi_ps(a0, a1));
  const __m512 t1 = _mm512_add_ps(_mm512_unpacklo_ps(a2, a3), _mm512_unpackhi_ps(a2, a3));
  const __m512 u = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t1))),
                                 _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t0), _mm512_castps_pd(t1))));
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(u),
                                 _mm256_castpd_ps(_mm512_maskz_extractf64x4_pd(0xff, _mm512_castps_pd(u), 1)));
  return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

void attn_scores_avx512(const float* q, const float* k, int64_t ldk, int64_t n_pos, int64_t hd, float scale,
                        float* s) {
  // Four positions at a time: q is loaded once per 16 elements for four keys.
  int64_t j = 0;
  for (; j + 4 <= n_pos; j += 4) {
    const float* k0 = k + j * ldk;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t i = 0; i < hd; i += 16) {
      const __mmask16 m = mask16(hd - i);
      const __m512 qv = _mm512_maskz_loadu_ps(m, q + i);
      a0 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k0 + i), a0);
      a1 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k0 + ldk + i), a1);
      a2 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k0 + 2 * ldk + i), a2);
      a3 = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(m, k0 + 3 * ldk + i), a3);
    }
    _mm_storeu_ps(s + j, _mm_mul_ps(_mm_set1_ps(scale), hsum4_ps(a0, a1, a2, a3)));
  }
  for (; j < n_pos; ++j) s[j] = scale * dot_f32_avx512(q, k + j * ldk, hd);
}

// Outputs [0, 16 * U) of one pass over the positions (the last register holds `last` lanes): U
// independent FMA chains, and every output still sums its positions in order, as the scalar twin does.
template <int U>
inline void values_pass(const float* p, const float* v, int64_t ldv, int64_t n_pos, __mmask16 last, float* out) {
  __m512 acc[U];
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) acc[u] = _mm512_maskz_loadu_ps(u == U - 1 ? last : __mmask16(0xffff), out + 16 * u);
  for (int64_t j = 0; j < n_pos; ++j) {
    const __m512 pj = _mm512_set1_ps(p[j]);
    const float* vj = v + j * ldv;
#pragma GCC unroll 8
    for (int u = 0; u < U; ++u)
      acc[u] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(u == U - 1 ? last : __mmask16(0xffff), vj + 16 * u), acc[u]);
  }
#pragma GCC unroll 8
  for (int u = 0; u < U; ++u) _mm512_mask_storeu_ps(out + 16 * u, u == U - 1 ? last : __mmask16(0xffff), acc[u]);
}

void attn_values_avx512(const float* p, const float* v, int64_t ldv, int64_t n_pos, int64_t hd, float* out) {
  // 128 outputs (8 registers) per pass; the rest (head sizes 96 and 100 among the presets) in one
  // more pass of up to 8 registers, not one single-chain pass per 16 outputs.
  int64_t i = 0;
  for (; i + 128 <= hd; i += 128) values_pass<8>(p, v + i, ldv, n_pos, 0xffff, out + i);
  const int64_t left = hd - i;
  if (left <= 0) return;
  const int regs = int((left + 15) / 16);
  const __mmask16 last = mask16(left - 16 * (regs - 1));
  with_register_count<8>(regs, [&](auto u) { values_pass<decltype(u)::value>(p, v + i, ldv, n_pos, last, out + i); });
}

uint64_t byte_sum_avx512(const uint8_t* p, size_t n) {
  // vpsadbw against zero sums 8 bytes into each 64-bit lane. The bytes are read as four interleaved
  // sequential streams (the quarters of [0, n)): on Zen 5 one stream per core read 36 GB/s and four
  // 42, and this sum is the bandwidth ceiling that decode is held to (runtime/bandwidth.h).
  const __m512i zero = _mm512_setzero_si512();
  __m512i acc[4][2];
  for (auto& a : acc) a[0] = a[1] = zero;
  const size_t q = n / 4 / 128 * 128;
  for (size_t i = 0; i < q; i += 128) {
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
      const uint8_t* src = p + size_t(s) * q + i;
      acc[s][0] = _mm512_add_epi64(acc[s][0], _mm512_sad_epu8(_mm512_loadu_si512(src), zero));
      acc[s][1] = _mm512_add_epi64(acc[s][1], _mm512_sad_epu8(_mm512_loadu_si512(src + 64), zero));
    }
  }
  __m512i a = zero;
  for (auto& s : acc) a = _mm512_add_epi64(a, _mm512_add_epi64(s[0], s[1]));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, a);
  uint64_t sum = 0;
  for (uint64_t lane : lanes) sum += lane;
  for (size_t i = 4 * q; i < n; ++i) sum += p[i];
  return sum;
}

void f16_to_f32_avx512(const uint16_t* h, int64_t n, float* out) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = mask16(n - i);
    _mm512_mask_storeu_ps(out + i, m, _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, h + i)));
  }
}

namespace {

// vpshufb control and shifts that move code i of a 16-code chunk (2 * bits bytes, broadcast to
// every 128-bit lane) into dword i: the two bytes holding it, then a right shift by its bit offset.
struct KvUnpack {
  int8_t index[64];
  int32_t shift[16];
};
constexpr KvUnpack make_kv_unpack(int bits) {
  KvUnpack u{};
  for (int i = 0; i < 16; ++i) {
    const int first = bits * i / 8;
    u.index[4 * i] = static_cast<int8_t>(first);
    u.index[4 * i + 1] = static_cast<int8_t>(first + 1);
    u.index[4 * i + 2] = u.index[4 * i + 3] = -128;  // high bit set: vpshufb writes 0
    u.shift[i] = bits * i % 8;
  }
  return u;
}
alignas(64) constexpr KvUnpack kKvUnpack3 = make_kv_unpack(3);
alignas(64) constexpr KvUnpack kKvUnpack4 = make_kv_unpack(4);

}  // namespace

void kv_dequant_avx512(const uint8_t* codes, int64_t n, int bits, float scale, float* out) {
  const __m512 sv = _mm512_set1_ps(scale);
  if (bits == 8) {
    for (int64_t i = 0; i < n; i += 16) {
      const __mmask16 m = mask16(n - i);
      const __m512i q = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, codes + i));
      _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(q), sv));
    }
    return;
  }
  const KvUnpack& u = bits == 4 ? kKvUnpack4 : kKvUnpack3;
  const __m512i index = _mm512_load_si512(u.index);
  const __m512i shift = _mm512_load_si512(u.shift);
  const __m512i code_mask = _mm512_set1_epi32((1 << bits) - 1);
  const __m512i offset = _mm512_set1_epi32(1 << (bits - 1));
  const int64_t chunk_bytes = 2 * bits;  // 16 codes
  for (int64_t i = 0; i < n; i += 16) {
    const int64_t left = n - i;
    // Only the bytes of the row: a partial chunk at the end holds ceil(left * bits / 8) bytes
    // (3 bits: whole groups of 8 codes, 3 bytes each).
    const int64_t bytes = left >= 16 ? chunk_bytes : (bits == 4 ? (left + 1) / 2 : (left + 7) / 8 * 3);
    const __m128i raw = _mm_maskz_loadu_epi8(static_cast<__mmask16>((1u << bytes) - 1), codes + i / 16 * chunk_bytes);
    __m512i q = _mm512_shuffle_epi8(_mm512_broadcast_i32x4(raw), index);
    q = _mm512_sub_epi32(_mm512_and_si512(_mm512_srlv_epi32(q, shift), code_mask), offset);
    _mm512_mask_storeu_ps(out + i, mask16(left), _mm512_mul_ps(_mm512_cvtepi32_ps(q), sv));
  }
}
}  // namespace bitnet::kernels::detail
