// AVX2 per-token int8 quantizer; bit-identical to quantize_i8_scalar (see quantize_avx512.cpp).
// The tail (< 8 values) goes through the same vector code via a zero-padded copy.
#include <immintrin.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline __m128i to_i8x8(__m256 v) {
  const __m256i r = _mm256_cvtps_epi32(v);  // MXCSR rounding: ties to even
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  return _mm_packs_epi16(p16, p16);  // saturating, like the scalar clamp
}

}  // namespace

float quantize_i8_avx2(const float* x, int64_t K, int8_t* q) {
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 fmax = _mm256_set1_ps(FLT_MAX);
  const int64_t full = K / 8 * 8;
  const int tail = static_cast<int>(K - full);
  alignas(32) float xt[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (tail) std::memcpy(xt, x + full, sizeof(float) * static_cast<size_t>(tail));

  __m256 vmax = _mm256_setzero_ps();
  __m256 bad = _mm256_setzero_ps();
  for (int64_t k = 0; k <= K - 8; k += 8) {
    const __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + k), absmask);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, fmax, _CMP_NLE_UQ));
    vmax = _mm256_max_ps(vmax, a);
  }
  {
    const __m256 a = _mm256_and_ps(_mm256_load_ps(xt), absmask);
    bad = _mm256_or_ps(bad, _mm256_cmp_ps(a, fmax, _CMP_NLE_UQ));
    vmax = _mm256_max_ps(vmax, a);
  }
  if (_mm256_movemask_ps(bad)) {
    if (K > 0) std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vmax), _mm256_extractf128_ps(vmax, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
  const float amax = _mm_cvtss_f32(m4);
  const float s = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
  const __m256 vs = _mm256_set1_ps(s);
  for (int64_t k = 0; k < full; k += 8) {
    _mm_storel_epi64(reinterpret_cast<__m128i*>(q + k), to_i8x8(_mm256_mul_ps(_mm256_loadu_ps(x + k), vs)));
  }
  if (tail) {
    alignas(16) int8_t qt[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(qt), to_i8x8(_mm256_mul_ps(_mm256_load_ps(xt), vs)));
    std::memcpy(q + full, qt, static_cast<size_t>(tail));
  }
  return s;
}

}  // namespace bitnet::kernels::detail
