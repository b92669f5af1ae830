// AVX2 INT4 absmean quantizer; bit-identical to quantize_i4_scalar: two 8-lane registers hold the
// scalar's 16 partial sums (k%16 in 0..7 and 8..15; masked tail lanes add +0), folded in the same
// order; vcvtps2dq rounds ties-to-even like nearbyint.
#include <immintrin.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline __m256i tail_mask(int64_t left) {
  // Lane i active if i < left (left may exceed 8 or be <= 0).
  const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int32_t l = left > 8 ? 8 : (left < 0 ? 0 : static_cast<int32_t>(left));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(l), lanes);
}

}  // namespace

float quantize_i4_avx2(const float* x, int64_t K, int8_t* q) {
  if (K <= 0) return 0.0f;
  const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 fmax = _mm256_set1_ps(FLT_MAX);
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  __m256 bad = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m256 v0 = _mm256_and_ps(_mm256_loadu_ps(x + k), absmask);
    const __m256 v1 = _mm256_and_ps(_mm256_loadu_ps(x + k + 8), absmask);
    bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_cmp_ps(v0, fmax, _CMP_NLE_UQ), _mm256_cmp_ps(v1, fmax, _CMP_NLE_UQ)));
    a0 = _mm256_add_ps(a0, v0);
    a1 = _mm256_add_ps(a1, v1);
  }
  if (k < K) {
    const __m256 v0 = _mm256_and_ps(_mm256_maskload_ps(x + k, tail_mask(K - k)), absmask);
    const __m256 v1 = _mm256_and_ps(_mm256_maskload_ps(x + k + 8, tail_mask(K - k - 8)), absmask);
    bad = _mm256_or_ps(bad, _mm256_or_ps(_mm256_cmp_ps(v0, fmax, _CMP_NLE_UQ), _mm256_cmp_ps(v1, fmax, _CMP_NLE_UQ)));
    a0 = _mm256_add_ps(a0, v0);
    a1 = _mm256_add_ps(a1, v1);
  }
  if (_mm256_movemask_ps(bad)) {
    std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  const __m256 h = _mm256_add_ps(a0, a1);
  __m128 f = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
  f = _mm_add_ps(f, _mm_movehl_ps(f, f));
  f = _mm_add_ss(f, _mm_shuffle_ps(f, f, 1));
  const float mean = _mm_cvtss_f32(f) / static_cast<float>(K);
  const float s = 2.64575131106459059f / (mean > 1e-5f ? mean : 1e-5f);
  const __m256 vs = _mm256_set1_ps(s);
  const __m256i lo = _mm256_set1_epi32(-8), hi = _mm256_set1_epi32(7);
  for (k = 0; k + 16 <= K; k += 16) {
    __m256i r0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k), vs));
    __m256i r1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + k + 8), vs));
    r0 = _mm256_min_epi32(_mm256_max_epi32(r0, lo), hi);
    r1 = _mm256_min_epi32(_mm256_max_epi32(r1, lo), hi);
    const __m256i p = _mm256_permute4x64_epi64(_mm256_packs_epi32(r0, r1), 0xD8);
    const __m128i b = _mm_packs_epi16(_mm256_castsi256_si128(p), _mm256_extracti128_si256(p, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), b);
  }
  for (; k < K; ++k) {
    const float r = __builtin_nearbyintf(x[k] * s);  // no <cmath> inlines in an ISA TU
    q[k] = static_cast<int8_t>(r > 7.0f ? 7 : (r < -8.0f ? -8 : static_cast<int>(r)));
  }
  return s;
}

}  // namespace bitnet::kernels::detail
