// AVX-512 INT4 absmean quantizer; bit-identical to quantize_i4_scalar: the 16 float lanes of one
// register are exactly the scalar's 16 partial sums (masked tail lanes add +0, which changes no
// sum), folded in the same order; vcvtps2dq rounds ties-to-even like nearbyint.
#include <immintrin.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {

float quantize_i4_avx512(const float* x, int64_t K, int8_t* q) {
  if (K <= 0) return 0.0f;
  const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 fmax = _mm512_set1_ps(FLT_MAX);
  __m512 acc = _mm512_setzero_ps();
  __mmask16 bad = 0;
  for (int64_t k = 0; k < K; k += 16) {
    const int64_t left = K - k;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 a = _mm512_and_ps(_mm512_maskz_loadu_ps(m, x + k), absmask);
    bad = static_cast<__mmask16>(bad | _mm512_cmp_ps_mask(a, fmax, _CMP_NLE_UQ));
    acc = _mm512_add_ps(acc, a);
  }
  if (bad) {
    std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  const __m256 h = _mm256_add_ps(_mm512_castps512_ps256(acc),
                                 _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
  __m128 f = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  f = _mm_add_ps(f, _mm_movehl_ps(f, f));
  f = _mm_add_ss(f, _mm_shuffle_ps(f, f, 1));
  const float mean = _mm_cvtss_f32(f) / static_cast<float>(K);
  const float s = 2.64575131106459059f / (mean > 1e-5f ? mean : 1e-5f);
  const __m512 vs = _mm512_set1_ps(s);
  const __m512i lo = _mm512_set1_epi32(-8), hi = _mm512_set1_epi32(7);
  for (int64_t k = 0; k < K; k += 16) {
    const int64_t left = K - k;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    __m512i r = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + k), vs));
    r = _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
    _mm512_mask_cvtepi32_storeu_epi8(q + k, m, r);
  }
  return s;
}

}  // namespace bitnet::kernels::detail
