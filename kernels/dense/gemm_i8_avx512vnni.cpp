// AVX-512 VNNI int8 GEMV/GEMM: vpdpbusd multiplies unsigned by signed bytes, so the weights are
// biased to unsigned (w + 128, one xor per loaded vector, shared by all tokens) and the bias is
// removed at the end: sum (w+128)*x = sum w*x + 128*sum x, with sum x computed once per token.
// The int32 arithmetic wraps, and the true dot product fits int32 (K < 131072), so the result is
// exact for every int8 input.
#include <immintrin.h>

// GCC 12 bug 105593: its AVX-512 cast/extract intrinsics use _mm256_undefined_*(), which
// -Wuninitialized flags in some inlining contexts.
#pragma GCC diagnostic ignored "-Wuninitialized"

#include <cstdint>

#include "dense/row_streams.h"
#include "dense_registry.h"
#include "vnni_tied.h"

namespace bitnet::kernels::detail {
namespace {

// Manual reductions with zero-masked extracts: GCC 12 warns about its own _mm256_undefined_*()
// inside _mm512_reduce_* and the unmasked extracts.
inline int32_t hsum_epi32(__m512i v) {
  const __m256i h = _mm256_add_epi32(_mm512_castsi512_si256(v), _mm512_maskz_extracti64x4_epi64(0xff, v, 1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline __mmask64 tail64(int64_t left) { return left >= 64 ? ~__mmask64{0} : (__mmask64{1} << left) - 1; }

template <int R, int T>
inline void block(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                  int64_t ldx, const int32_t* xsum, const float* inv, float* y, int64_t ldy) {
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc[R][T];
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[i][t] = _mm512_setzero_si512();
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) {
    __m512i xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = _mm512_loadu_si512(x + t * ldx + k);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512i wu = _mm512_xor_si512(_mm512_loadu_si512(w + (r + i) * ldw + k), bias);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[i][t] = dpbusd_tied(acc[i][t], wu, xv[t]);
    }
  }
  if (k < K) {
    // Masked-off weight bytes become 0x80 (128) after the bias, but meet x = 0: no contribution.
    const __mmask64 m = tail64(K - k);
    __m512i xv[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) xv[t] = _mm512_maskz_loadu_epi8(m, x + t * ldx + k);
#pragma GCC unroll 16
    for (int i = 0; i < R; ++i) {
      const __m512i wu = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, w + (r + i) * ldw + k), bias);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) acc[i][t] = dpbusd_tied(acc[i][t], wu, xv[t]);
    }
  }
#pragma GCC unroll 16
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const uint32_t a = static_cast<uint32_t>(hsum_epi32(acc[i][t])) -
                         (static_cast<uint32_t>(xsum[t]) << 7);
      y[t * ldy + r + i] = (float(static_cast<int32_t>(a)) * ws[r + i]) * inv[t];
    }
}

// Decode: four rows at once, one from each quarter of the task (walk_row_streams in
// row_streams.h), two accumulators across k per row, so a thread reads four sequential streams.
// Eight rows side by side are eight short streams; one row at a time leaves memory and arithmetic
// unoverlapped.
template <int S>
inline void rows_dot(const int8_t* w, int64_t ldw, const int64_t* rows, int64_t K, const int8_t* x, int32_t* out) {
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  const int8_t* p[S];
  __m512i acc[S][2];
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) {
    p[s] = w + rows[s] * ldw;
    acc[s][0] = acc[s][1] = _mm512_setzero_si512();
  }
  int64_t k = 0;
  for (; k + 128 <= K; k += 128) {
    const __m512i x0 = _mm512_loadu_si512(x + k), x1 = _mm512_loadu_si512(x + k + 64);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s) {
      acc[s][0] = dpbusd_tied(acc[s][0], _mm512_xor_si512(_mm512_loadu_si512(p[s] + k), bias), x0);
      acc[s][1] = dpbusd_tied(acc[s][1], _mm512_xor_si512(_mm512_loadu_si512(p[s] + k + 64), bias), x1);
    }
  }
  // Masked-off weight bytes become 0x80 after the bias, but meet x = 0: no contribution.
  for (; k < K; k += 64) {
    const __mmask64 m = tail64(K - k);
    const __m512i xv = _mm512_maskz_loadu_epi8(m, x + k);
#pragma GCC unroll 4
    for (int s = 0; s < S; ++s)
      acc[s][0] = dpbusd_tied(acc[s][0], _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, p[s] + k), bias), xv);
  }
#pragma GCC unroll 4
  for (int s = 0; s < S; ++s) out[s] = hsum_epi32(_mm512_add_epi32(acc[s][0], acc[s][1]));
}

template <int R>
inline void tokens(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                   int64_t ldx, const int32_t* xsum, const float* inv, int64_t N, float* y, int64_t ldy) {
  for (int64_t n = 0; n < N; n += 4) {
    const int8_t* xn = x + n * ldx;
    float* yn = y + n * ldy;
    switch (N - n) {
      case 1: block<R, 1>(w, ldw, ws, K, r, xn, ldx, xsum + n, inv + n, yn, ldy); break;
      case 2: block<R, 2>(w, ldw, ws, K, r, xn, ldx, xsum + n, inv + n, yn, ldy); break;
      case 3: block<R, 3>(w, ldw, ws, K, r, xn, ldx, xsum + n, inv + n, yn, ldy); break;
      default: block<R, 4>(w, ldw, ws, K, r, xn, ldx, xsum + n, inv + n, yn, ldy); break;
    }
  }
}

int32_t sum_i8(const int8_t* x, int64_t K) {
  const __m512i ones = _mm512_set1_epi8(1);
  __m512i acc = _mm512_setzero_si512();
  for (int64_t k = 0; k < K; k += 64)
    acc = dpbusd_tied(acc, ones, _mm512_maskz_loadu_epi8(tail64(K - k), x + k));
  return hsum_epi32(acc);
}

}  // namespace

void gemm_i8_avx512vnni(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
                        const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy) {
  constexpr int64_t kChunk = 64;  // tokens per pass over the rows (per-token data on the stack)
  float inv[kChunk];
  int32_t xsum[kChunk];
  for (int64_t n0 = 0; n0 < N; n0 += kChunk) {
    const int64_t nn = N - n0 < kChunk ? N - n0 : kChunk;
    const int8_t* xc = x + n0 * ldx;
    for (int64_t t = 0; t < nn; ++t) {
      inv[t] = 1.0f / x_scale[n0 + t];
      xsum[t] = sum_i8(xc + t * ldx, K);
    }
    float* yc = y + n0 * ldy;
    int64_t r = r0;
    if (nn == 1) {
      // The bias made the weights unsigned: sum (w + 128) x = sum w x + 128 sum x, in wrapping
      // 32-bit arithmetic.
      auto finish = [&](int64_t row, int32_t dot) {
        const uint32_t a = static_cast<uint32_t>(dot) - (static_cast<uint32_t>(xsum[0]) << 7);
        yc[row] = (float(static_cast<int32_t>(a)) * w_scale[row]) * inv[0];
      };
      walk_row_streams<4>(
          r0, r1,
          [&](const int64_t* rows) {
            int32_t dot[4];
            rows_dot<4>(w, ldw, rows, K, xc, dot);
            for (int s = 0; s < 4; ++s) finish(rows[s], dot[s]);
          },
          [&](int64_t row) {
            int32_t dot;
            rows_dot<1>(w, ldw, &row, K, xc, &dot);
            finish(row, dot);
          });
      r = r1;
    } else {
      for (; r + 4 <= r1; r += 4) tokens<4>(w, ldw, w_scale, K, r, xc, ldx, xsum, inv, nn, yc, ldy);
    }
    for (; r < r1; ++r) tokens<1>(w, ldw, w_scale, K, r, xc, ldx, xsum, inv, nn, yc, ldy);
  }
}

}  // namespace bitnet::kernels::detail
