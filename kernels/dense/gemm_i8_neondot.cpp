// NEON int8 GEMV/GEMM with the dotprod extension: sdot multiplies signed by signed bytes, so no
// bias correction is needed. Same blocking as gemm_neon.cpp.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "dense_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline int8x16_t load16_tail(const int8_t* p, int64_t left) {
  int8_t tmp[16] = {};
  std::memcpy(tmp, p, size_t(left));
  return vld1q_s8(tmp);
}

template <int R, int T>
inline void block(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                  int64_t ldx, const float* inv, float* y, int64_t ldy) {
  int32x4_t acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[i][t] = vdupq_n_s32(0);
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    int8x16_t xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = vld1q_s8(x + t * ldx + k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const int8x16_t wv = vld1q_s8(w + (r + i) * ldw + k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = vdotq_s32(acc[i][t], wv, xv[t]);
    }
  }
  if (k < K) {
    int8x16_t xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = load16_tail(x + t * ldx + k, K - k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const int8x16_t wv = load16_tail(w + (r + i) * ldw + k, K - k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = vdotq_s32(acc[i][t], wv, xv[t]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) y[t * ldy + r + i] = (float(vaddvq_s32(acc[i][t])) * ws[r + i]) * inv[t];
}

template <int R>
inline void tokens(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                   int64_t ldx, const float* inv, int64_t N, float* y, int64_t ldy) {
  for (int64_t n = 0; n < N; n += 4) {
    const int8_t* xn = x + n * ldx;
    float* yn = y + n * ldy;
    switch (N - n) {
      case 1: block<R, 1>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
      case 2: block<R, 2>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
      case 3: block<R, 3>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
      default: block<R, 4>(w, ldw, ws, K, r, xn, ldx, inv + n, yn, ldy); break;
    }
  }
}

}  // namespace

void gemm_i8_neondot(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
                     const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy) {
  constexpr int64_t kChunk = 64;
  float inv[kChunk];
  for (int64_t n0 = 0; n0 < N; n0 += kChunk) {
    const int64_t nn = N - n0 < kChunk ? N - n0 : kChunk;
    for (int64_t t = 0; t < nn; ++t) inv[t] = 1.0f / x_scale[n0 + t];
    const int8_t* xc = x + n0 * ldx;
    float* yc = y + n0 * ldy;
    int64_t r = r0;
    if (nn == 1) {
      for (; r + 8 <= r1; r += 8) block<8, 1>(w, ldw, w_scale, K, r, xc, ldx, inv, yc, ldy);
    } else {
      for (; r + 4 <= r1; r += 4) tokens<4>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
    }
    for (; r < r1; ++r) tokens<1>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
  }
}

}  // namespace bitnet::kernels::detail
