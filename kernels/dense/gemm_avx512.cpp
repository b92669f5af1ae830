// AVX-512 dense GEMV/GEMM: f32 and f16 (F16C vcvtph2ps) rows x f32 activations with FMA, and int8 x
// int8 widened to int16 (vpmovsxbw + vpmaddwd: exact for every int8 value, no VNNI needed).
//
// A block is R rows x T tokens of accumulators; each weight vector is loaded once and used for T
// tokens. N > 1 takes 4 rows x up to 4 tokens (16 accumulators), and the rows of a block stay in
// L1/L2 while every token block passes over them. Decode (N = 1) reads f16/bf16 rows four at a time
// from the four quarters of its range (rows_float: four sequential streams, 4 chains across k each);
// f32 and int8 rows 8 at a time with a software prefetch of the next 8, which measured faster for
// them.
#include <immintrin.h>

// GCC 12 bug 105593: its AVX-512 cast/extract intrinsics use _mm256_undefined_*(), which
// -Wuninitialized flags once the accumulator arrays below are scalarised.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstdint>

#include "dense/row_streams.h"
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
inline int32_t hsum_epi32(__m512i v) {
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline __mmask16 tail16(int64_t left) { return static_cast<__mmask16>((1u << left) - 1); }

inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load16(const Bf16* p) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), 16));
}
inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16(const uint16_t* p, __mmask16 m) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p)); }
inline __m512 load16(const Bf16* p, __mmask16 m) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

// The f32 and int8 (BW) decode walk (8 rows side by side): the R rows of the next block are prefetched into L2
// while this block runs (one line per row per 64 bytes of progress). Without it the hardware
// prefetcher alone left the head ~10% slower on Sapphire Rapids; rows past the caller's range are
// only prefetched, never read (prefetches do not fault).
template <int R, class W>
inline void prefetch_next_block(const W* w, int64_t ldw, int64_t r, int64_t k) {
  if ((k * int64_t(sizeof(W))) % 64 != 0) return;
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i) _mm_prefetch(reinterpret_cast<const char*>(w + (r + R + i) * ldw + k), _MM_HINT_T1);
}

template <int R, int T, class W>
inline void block_float(const W* w, int64_t ldw, int64_t K, int64_t r, const float* x, int64_t ldx, float* y,
                        int64_t ldy) {
  __m512 acc[R][T];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_ps(x + t * ldx + k);
    if constexpr (T == 1) prefetch_next_block<R>(w, ldw, r, k);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 wv = load16(w + (r + i) * ldw + k);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
  if (k < K) {
    const __mmask16 m = tail16(K - k);
    __m512 xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_ps(m, x + t * ldx + k);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512 wv = load16(w + (r + i) * ldw + k, m);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_fmadd_ps(wv, xv[t], acc[i][t]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) y[t * ldy + r + i] = hsum_ps(acc[i][t]);
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

// Decode (N = 1) of 16-bit rows: four rows at once, one from each quarter of the task
// (walk_row_streams), 4 accumulators across k per row, so a thread reads four sequential streams.
// Eight rows side by side are eight short streams (one row of the 2B-4T head is 5 KB), which the
// hardware prefetchers track worse; one row at a time is one stream, which leaves memory and
// arithmetic unoverlapped. lmhead/avx512vnni/f16/N:1 on Zen 5, 3 alternated rounds, 2 threads: one
// row at a time 60.8-62.6 GB/s, two streams 61.1-62.7, four 65.4-67.9. f32 rows measured better
// with the 8-row walk and its software prefetch (-5 to -15% one row at a time), so they keep it.
// The 4-stream walk also asks for each stream's line 1 KB ahead: lmhead/avx512vnni/f16/N:1, 3
// alternated rounds, 2 threads: none 60-65 GB/s, 1 KB 64-72, 2 KB 65-71, 4 KB 54-55.
constexpr int64_t kRowPrefetchBytes = 1024;

template <int S, int A, class W>
inline void rows_float(const W* w, int64_t ldw, const int64_t* rows, int64_t K, const float* x, float* y) {
  const W* p[S];
  __m512 acc[S][A];
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) {
    p[s] = w + rows[s] * ldw;
#pragma GCC unroll 8
    for (int u = 0; u < A; ++u) acc[s][u] = _mm512_setzero_ps();
  }
  int64_t k = 0;
  for (; k + 16 * A <= K; k += 16 * A) {
    if constexpr (S > 1) {
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) {
        const char* ahead = reinterpret_cast<const char*>(p[s] + k) + kRowPrefetchBytes;
#pragma GCC unroll 4
        for (int line = 0; line < int(16 * A * sizeof(W)) / 64; ++line)
          _mm_prefetch(ahead + 64 * line, _MM_HINT_T0);
      }
    }
#pragma GCC unroll 8
    for (int u = 0; u < A; ++u) {
      const __m512 xv = _mm512_loadu_ps(x + k + 16 * u);
#pragma GCC unroll 4
      for (int s = 0; s < S; ++s) acc[s][u] = _mm512_fmadd_ps(load16(p[s] + k + 16 * u), xv, acc[s][u]);
    }
  }
  for (int u = 0; k < K; k += 16, ++u) {
    const __mmask16 m = tail16(K - k < 16 ? K - k : 16);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) acc[s][u] = _mm512_fmadd_ps(load16(p[s] + k, m), xv, acc[s][u]);
  }
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) {
    __m512 sum = acc[s][0];
#pragma GCC unroll 8
    for (int u = 1; u < A; ++u) sum = _mm512_add_ps(sum, acc[s][u]);
    y[rows[s]] = hsum_ps(sum);
  }
}

template <int S, int A, class W>
void decode_rows_float(const W* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, float* y) {
  walk_row_streams<S>(
      r0, r1, [&](const int64_t* rows) { rows_float<S, A>(w, ldw, rows, K, x, y); },
      [&](int64_t r) { rows_float<1, A>(w, ldw, &r, K, x, y); });
}

template <class W>
void gemm_float(const W* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                int64_t N, float* y, int64_t ldy) {
  int64_t r = r0;
  if (N == 1 && sizeof(W) == 2) {
    decode_rows_float<4, 4>(w, ldw, K, r0, r1, x, y);
    r = r1;
  } else if (N == 1) {
    for (; r + 8 <= r1; r += 8) block_float<8, 1>(w, ldw, K, r, x, ldx, y, ldy);
  } else {
    for (; r + 4 <= r1; r += 4) tokens_float<4>(w, ldw, K, r, x, ldx, N, y, ldy);
  }
  for (; r < r1; ++r) tokens_float<1>(w, ldw, K, r, x, ldx, N, y, ldy);
}

// ---- int8 ----

inline __m512i widen32(const int8_t* p) {
  return _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512i widen32(const int8_t* p, __mmask32 m) { return _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, p)); }

template <int R, int T>
inline void block_i8(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                     int64_t ldx, const float* inv, float* y, int64_t ldy) {
  __m512i acc[R][T];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m512i xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = widen32(x + t * ldx + k);
    if constexpr (T == 1) prefetch_next_block<R>(w, ldw, r, k);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512i wv = widen32(w + (r + i) * ldw + k);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_add_epi32(acc[i][t], _mm512_madd_epi16(wv, xv[t]));
    }
  }
  if (k < K) {
    const __mmask32 m = static_cast<__mmask32>((uint64_t{1} << (K - k)) - 1);
    __m512i xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = widen32(x + t * ldx + k, m);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512i wv = widen32(w + (r + i) * ldw + k, m);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[i][t] = _mm512_add_epi32(acc[i][t], _mm512_madd_epi16(wv, xv[t]));
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      y[t * ldy + r + i] = (float(hsum_epi32(acc[i][t])) * ws[r + i]) * inv[t];
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

void gemm_f32_avx512(const float* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                     int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_f16_avx512(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_bf16_avx512(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t N, float* y, int64_t ldy) {
  gemm_float(reinterpret_cast<const Bf16*>(w), ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_i8_avx512(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
                    const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy) {
  // Tokens in chunks of 64 so the per-token reciprocals fit on the stack; rows are re-read once
  // per 64 tokens (prefill), never for decode.
  constexpr int64_t kChunk = 64;
  float inv[kChunk];
  for (int64_t n0 = 0; n0 < N; n0 += kChunk) {
    const int64_t nn = N - n0 < kChunk ? N - n0 : kChunk;
    for (int64_t t = 0; t < nn; ++t) inv[t] = 1.0f / x_scale[n0 + t];
    const int8_t* xc = x + n0 * ldx;
    float* yc = y + n0 * ldy;
    int64_t r = r0;
    if (nn == 1) {
      for (; r + 8 <= r1; r += 8) block_i8<8, 1>(w, ldw, w_scale, K, r, xc, ldx, inv, yc, ldy);
    } else {
      for (; r + 4 <= r1; r += 4) tokens_i8<4>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
    }
    for (; r < r1; ++r) tokens_i8<1>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
  }
}

}  // namespace bitnet::kernels::detail
