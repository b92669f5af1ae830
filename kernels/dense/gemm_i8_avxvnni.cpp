// AVX-VNNI int8 GEMV/GEMM (the int8 LM head on CPUs with VNNI on ymm but no AVX-512): as the AVX-512
// VNNI kernel, vpdpbusd multiplies unsigned by signed bytes, so the weights are biased to unsigned
// (w + 128, one xor per loaded vector, shared by all tokens) and the bias is removed at the end:
// sum (w+128)*x = sum w*x + 128*sum x, with sum x computed once per token. The int32 arithmetic
// wraps, and the true dot product fits int32 (K < 131072), so the result is exact for every int8
// input. The AVX2 kernel widens to int16 and uses vpmaddwd: four instructions per 16 weights where
// this one needs two per 32.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "dense/row_streams.h"
#include "dense_registry.h"
#include "vnni_tied.h"

namespace bitnet::kernels::detail {
namespace {

inline int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

inline __m256i load32(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// The last 1..31 bytes, zero-padded (AVX2 has no byte-masked load). Padded weight bytes become 128
// after the bias but meet x = 0: no contribution.
inline __m256i load_tail(const int8_t* p, int64_t left) {
  alignas(32) int8_t buf[32] = {};
  std::memcpy(buf, p, static_cast<size_t>(left));
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(buf));
}

inline uint32_t unbias(int32_t dot, int32_t xsum) {
  return static_cast<uint32_t>(dot) - (static_cast<uint32_t>(xsum) << 7);
}

// GEMM: R rows x T tokens, R*T accumulators (at most 8 of the 16 registers).
template <int R, int T>
inline void block(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                  int64_t ldx, const int32_t* xsum, const float* inv, float* y, int64_t ldy) {
  static_assert(R * T <= 8, "accumulators must leave registers for activations and weights");
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256i acc[R][T];
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) acc[i][t] = _mm256_setzero_si256();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    __m256i xv[T];
    for (int t = 0; t < T; ++t) xv[t] = load32(x + t * ldx + k);
    for (int i = 0; i < R; ++i) {
      const __m256i wu = _mm256_xor_si256(load32(w + (r + i) * ldw + k), bias);
      for (int t = 0; t < T; ++t) acc[i][t] = dpbusd_avx_tied(acc[i][t], wu, xv[t]);
    }
  }
  if (k < K) {
    __m256i xv[T];
    for (int t = 0; t < T; ++t) xv[t] = load_tail(x + t * ldx + k, K - k);
    for (int i = 0; i < R; ++i) {
      const __m256i wu = _mm256_xor_si256(load_tail(w + (r + i) * ldw + k, K - k), bias);
      for (int t = 0; t < T; ++t) acc[i][t] = dpbusd_avx_tied(acc[i][t], wu, xv[t]);
    }
  }
  for (int i = 0; i < R; ++i)
    for (int t = 0; t < T; ++t) {
      const uint32_t a = unbias(hsum_epi32(acc[i][t]), xsum[t]);
      y[t * ldy + r + i] = (float(static_cast<int32_t>(a)) * ws[r + i]) * inv[t];
    }
}

// Decode: four rows at once, one from each quarter of the task (walk_row_streams), two
// accumulators across k per row, so a thread reads four sequential streams.
template <int S>
inline void rows_dot(const int8_t* w, int64_t ldw, const int64_t* rows, int64_t K, const int8_t* x, int32_t* out) {
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  const int8_t* p[S];
  __m256i acc[S][2];
  for (int s = 0; s < S; ++s) {
    p[s] = w + rows[s] * ldw;
    acc[s][0] = acc[s][1] = _mm256_setzero_si256();
  }
  int64_t k = 0;
  for (; k + 64 <= K; k += 64) {
    const __m256i x0 = load32(x + k), x1 = load32(x + k + 32);
    for (int s = 0; s < S; ++s) {
      acc[s][0] = dpbusd_avx_tied(acc[s][0], _mm256_xor_si256(load32(p[s] + k), bias), x0);
      acc[s][1] = dpbusd_avx_tied(acc[s][1], _mm256_xor_si256(load32(p[s] + k + 32), bias), x1);
    }
  }
  for (; k < K; k += 32) {
    const int64_t left = K - k;
    const __m256i xv = left >= 32 ? load32(x + k) : load_tail(x + k, left);
    for (int s = 0; s < S; ++s) {
      const __m256i wv = left >= 32 ? load32(p[s] + k) : load_tail(p[s] + k, left);
      acc[s][0] = dpbusd_avx_tied(acc[s][0], _mm256_xor_si256(wv, bias), xv);
    }
  }
  for (int s = 0; s < S; ++s) out[s] = hsum_epi32(_mm256_add_epi32(acc[s][0], acc[s][1]));
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
  const __m256i ones = _mm256_set1_epi8(1);
  __m256i acc = _mm256_setzero_si256();
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) acc = dpbusd_avx_tied(acc, ones, load32(x + k));
  int32_t s = hsum_epi32(acc);
  for (; k < K; ++k) s += x[k];
  return s;
}

}  // namespace

void gemm_i8_avxvnni(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
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
      auto finish = [&](int64_t row, int32_t dot) {
        yc[row] = (float(static_cast<int32_t>(unbias(dot, xsum[0]))) * w_scale[row]) * inv[0];
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
      for (; r + 2 <= r1; r += 2) tokens<2>(w, ldw, w_scale, K, r, xc, ldx, xsum, inv, nn, yc, ldy);
    }
    for (; r < r1; ++r) tokens<1>(w, ldw, w_scale, K, r, xc, ldx, xsum, inv, nn, yc, ldy);
  }
}

}  // namespace bitnet::kernels::detail
