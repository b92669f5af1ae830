// AVX-512 per-token int8 quantizer; bit-identical to quantize_i8_scalar (same float operations in
// the same order per element; vcvtps2dq rounds with MXCSR, i.e. ties-to-even like nearbyint under
// the default mode; vpmovsdb saturates exactly like the scalar clamp).
#include <immintrin.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {

float quantize_i8_avx512(const float* x, int64_t K, int8_t* q) {
  const __m512 absmask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 fmax = _mm512_set1_ps(FLT_MAX);
  __m512 vmax = _mm512_setzero_ps();
  __mmask16 bad = 0;
  for (int64_t k = 0; k < K; k += 16) {
    const int64_t left = K - k;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 a = _mm512_and_ps(_mm512_maskz_loadu_ps(m, x + k), absmask);
    bad = static_cast<__mmask16>(bad | _mm512_cmp_ps_mask(a, fmax, _CMP_NLE_UQ));
    vmax = _mm512_max_ps(vmax, a);
  }
  if (bad) {
    if (K > 0) std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  // Manual reduction (GCC 12 warns inside _mm512_reduce_max_ps); max is exact in any order.
  __m256 h = _mm256_max_ps(_mm512_castps512_ps256(vmax),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(vmax), 1)));
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
  const float amax = _mm_cvtss_f32(m4);
  const float s = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
  const __m512 vs = _mm512_set1_ps(s);
  for (int64_t k = 0; k < K; k += 16) {
    const int64_t left = K - k;
    const __mmask16 m = left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512i r = _mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + k), vs));
    _mm512_mask_cvtsepi32_storeu_epi8(q + k, m, r);
  }
  return s;
}

}  // namespace bitnet::kernels::detail
