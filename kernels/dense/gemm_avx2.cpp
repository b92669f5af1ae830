// AVX2 dense GEMV/GEMM: f32 and f16 (F16C) rows x f32 activations with FMA, and int8 x int8
// widened to int16 (vpmovsxbw + vpmaddwd: exact for every int8 value). N > 1 takes 2 rows x up to
// 4 tokens; decode (N = 1) reads four rows at a time, one from each quarter of the task, with
// independent chains across k, so each thread reads four sequential streams.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "dense/row_streams.h"
#include "dense_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256 load8(const Bf16* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))), 16));
}
// The first `left` (< 8) elements, the rest zero.
template <class E>
inline __m256 load8_tail(const E* p, int64_t left) {
  E tmp[8] = {};
  std::memcpy(tmp, p, size_t(left) * sizeof(E));
  return load8(tmp);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int R, int T, class W>
inline void block_float(const W* w, int64_t ldw, int64_t K, int64_t r, const float* x, int64_t ldx, float* y,
                        int64_t ldy) {
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256 wv = load8(w + (r + i) * ldw + k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = _mm256_fmadd_ps(wv, _mm256_loadu_ps(x + t * ldx + k), acc[i][t]);
    }
  }
  if (k < K) {
    __m256 xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = load8_tail(x + t * ldx + k, K - k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256 wv = load8_tail(w + (r + i) * ldw + k, K - k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = _mm256_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) y[t * ldy + r + i] = hsum(acc[i][t]);
}

template <int R, class W>
inline void tokens_float(const W* w, int64_t ldw, int64_t K, int64_t r, const float* x, int64_t ldx, int64_t N,
                         float* y, int64_t ldy) {
  for (int64_t n = 0; n < N; n += 4) {
    const float* xn = x + n * ldx;
    float* yn = y + n * ldy;
    switch (N - n) {
      case 1: block_float<R, 1>(w, ldw, K, r, xn, ldx, yn, ldy); break;
      case 2: block_float<R, 2>(w, ldw, K, r, xn, ldx, yn, ldy); break;
      case 3: block_float<R, 3>(w, ldw, K, r, xn, ldx, yn, ldy); break;
      default: block_float<R, 4>(w, ldw, K, r, xn, ldx, yn, ldy); break;
    }
  }
}

// Decode (N = 1): four rows at once, one from each quarter of the task (walk_row_streams), 2
// accumulators across k per row, so a thread reads four sequential streams (see rows_float in
// gemm_avx512.cpp). Four rows x 2 chains fit the 16 ymm registers with room for the activations.
template <int S, class W>
inline void rows_float(const W* w, int64_t ldw, const int64_t* rows, int64_t K, const float* x, float* y) {
  const W* p[S];
  __m256 acc[S][2];
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) {
    p[s] = w + rows[s] * ldw;
    acc[s][0] = acc[s][1] = _mm256_setzero_ps();
  }
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    const __m256 x0 = _mm256_loadu_ps(x + k), x1 = _mm256_loadu_ps(x + k + 8);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) {
      acc[s][0] = _mm256_fmadd_ps(load8(p[s] + k), x0, acc[s][0]);
      acc[s][1] = _mm256_fmadd_ps(load8(p[s] + k + 8), x1, acc[s][1]);
    }
  }
  // K tail (1..15 elements): a full or partial 8-lane step into chain 0, the rest into chain 1.
  for (int u = 0; k < K; k += 8, ++u) {
    const int64_t left = K - k < 8 ? K - k : 8;
    const __m256 xv = left == 8 ? _mm256_loadu_ps(x + k) : load8_tail(x + k, left);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s)
      acc[s][u] = _mm256_fmadd_ps(left == 8 ? load8(p[s] + k) : load8_tail(p[s] + k, left), xv, acc[s][u]);
  }
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) y[rows[s]] = hsum(_mm256_add_ps(acc[s][0], acc[s][1]));
}

template <class W>
void gemm_float(const W* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                int64_t N, float* y, int64_t ldy) {
  int64_t r = r0;
  if (N == 1) {
    walk_row_streams<4>(
        r0, r1, [&](const int64_t* rows) { rows_float<4>(w, ldw, rows, K, x, y); },
        [&](int64_t row) { rows_float<1>(w, ldw, &row, K, x, y); });
    r = r1;
  } else {
    for (; r + 2 <= r1; r += 2) tokens_float<2>(w, ldw, K, r, x, ldx, N, y, ldy);
  }
  for (; r < r1; ++r) tokens_float<1>(w, ldw, K, r, x, ldx, N, y, ldy);
}

// ---- int8 ----

inline __m256i widen16(const int8_t* p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
inline __m256i widen16_tail(const int8_t* p, int64_t left) {
  int8_t tmp[16] = {};
  std::memcpy(tmp, p, size_t(left));
  return widen16(tmp);
}

inline int32_t hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

template <int R, int T>
inline void block_i8(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                     int64_t ldx, const float* inv, float* y, int64_t ldy) {
  __m256i acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_si256();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m256i xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = widen16(x + t * ldx + k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256i wv = widen16(w + (r + i) * ldw + k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = _mm256_add_epi32(acc[i][t], _mm256_madd_epi16(wv, xv[t]));
    }
  }
  if (k < K) {
    __m256i xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = widen16_tail(x + t * ldx + k, K - k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m256i wv = widen16_tail(w + (r + i) * ldw + k, K - k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = _mm256_add_epi32(acc[i][t], _mm256_madd_epi16(wv, xv[t]));
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) y[t * ldy + r + i] = (float(hsum_i32(acc[i][t])) * ws[r + i]) * inv[t];
}

// Decode: four rows at once, one from each quarter of the task (see rows_float), 2 accumulators
// across k per row. One row at a time against 4 rows side by side had measured, lmhead/avx2/i8/N:1
// on Zen 5: 14.4-15.3 -> 32.0-33.8 GB/s on 1 thread, 27.5-28.7 -> 38.1-41.2 on 2.
template <int S>
inline void rows_i8(const int8_t* w, int64_t ldw, const int64_t* rows, int64_t K, const int8_t* x, int32_t* out) {
  const int8_t* p[S];
  __m256i acc[S][2];
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) {
    p[s] = w + rows[s] * ldw;
    acc[s][0] = acc[s][1] = _mm256_setzero_si256();
  }
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    const __m256i x0 = widen16(x + k), x1 = widen16(x + k + 16);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) {
      acc[s][0] = _mm256_add_epi32(acc[s][0], _mm256_madd_epi16(widen16(p[s] + k), x0));
      acc[s][1] = _mm256_add_epi32(acc[s][1], _mm256_madd_epi16(widen16(p[s] + k + 16), x1));
    }
  }
  for (; k < K; k += 16) {
    const int64_t left = K - k < 16 ? K - k : 16;
    const __m256i xv = left == 16 ? widen16(x + k) : widen16_tail(x + k, left);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s)
      acc[s][0] = _mm256_add_epi32(acc[s][0], _mm256_madd_epi16(left == 16 ? widen16(p[s] + k) : widen16_tail(p[s] + k, left), xv));
  }
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) out[s] = hsum_i32(_mm256_add_epi32(acc[s][0], acc[s][1]));
}

template <int R>
inline void tokens_i8(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                      int64_t ldx, const float* inv, int64_t N, float* y, int64_t ldy) {
  for (int64_t n = 0; n < N; n += 4) {
    const int8_t* xn = x + n * ldx;
    float* yn = y + n * ldy;
    switch (N - n) {
      case 1: block_i8<R, 1>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
      case 2: block_i8<R, 2>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
      case 3: block_i8<R, 3>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
      default: block_i8<R, 4>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
    }
  }
}

}  // namespace

void gemm_f32_avx2(const float* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                   int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_f16_avx2(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                   int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_bf16_avx2(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t N, float* y, int64_t ldy) {
  gemm_float(reinterpret_cast<const Bf16*>(w), ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_i8_avx2(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
                  const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy) {
  constexpr int64_t kChunk = 64;  // tokens per pass over the rows (reciprocals on the stack)
  float inv[kChunk];
  for (int64_t n0 = 0; n0 < N; n0 += kChunk) {
    const int64_t nn = N - n0 < kChunk ? N - n0 : kChunk;
    for (int64_t t = 0; t < nn; ++t) inv[t] = 1.0f / x_scale[n0 + t];
    const int8_t* xc = x + n0 * ldx;
    float* yc = y + n0 * ldy;
    int64_t r = r0;
    if (nn == 1) {
      walk_row_streams<4>(
          r0, r1,
          [&](const int64_t* rows) {
            int32_t dot[4];
            rows_i8<4>(w, ldw, rows, K, xc, dot);
            for (int s = 0; s < 4; ++s) yc[rows[s]] = (float(dot[s]) * w_scale[rows[s]]) * inv[0];
          },
          [&](int64_t row) {
            int32_t dot;
            rows_i8<1>(w, ldw, &row, K, xc, &dot);
            yc[row] = (float(dot) * w_scale[row]) * inv[0];
          });
      r = r1;
    } else {
      for (; r + 2 <= r1; r += 2) tokens_i8<2>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
    }
    for (; r < r1; ++r) tokens_i8<1>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
  }
}

}  // namespace bitnet::kernels::detail
