// NEON dense GEMV/GEMM: f32 and f16 (vcvt_f32_f16, base AArch64) rows x f32 activations with FMA,
// and int8 x int8 via vmull_s8 + vpadalq_s16 (exact for every int8 value: each product fits int16,
// vpadal adds pairs into int32). Float: decode takes 8 rows, N > 1 takes 4 rows x up to 4 tokens;
// int8: 4 rows, and 2 rows x up to 4 tokens.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "dense_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline float32x4_t load4(const float* p) { return vld1q_f32(p); }
inline float32x4_t load4(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
inline float32x4_t load4(const Bf16* p) {
  return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p)), 16));
}
template <class E>
inline float32x4_t load4_tail(const E* p, int64_t left) {
  E tmp[4] = {};  // zero bits are 0.0 in every format
  std::memcpy(tmp, p, size_t(left) * sizeof(E));
  return load4(tmp);
}

template <int R, int T, class W>
inline void block_float(const W* w, int64_t ldw, int64_t K, int64_t r, const float* x, int64_t ldx, float* y,
                        int64_t ldy) {
  float32x4_t acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[i][t] = vdupq_n_f32(0.0f);
  int64_t k = 0;
  for (; k + 4 <= K; k += 4) {
    float32x4_t xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = vld1q_f32(x + t * ldx + k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const float32x4_t wv = load4(w + (r + i) * ldw + k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = vfmaq_f32(acc[i][t], wv, xv[t]);
    }
  }
  if (k < K) {
    float32x4_t xv[T];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = load4_tail(x + t * ldx + k, K - k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const float32x4_t wv = load4_tail(w + (r + i) * ldw + k, K - k);
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) acc[i][t] = vfmaq_f32(acc[i][t], wv, xv[t]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) y[t * ldy + r + i] = vaddvq_f32(acc[i][t]);
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

template <class W>
void gemm_float(const W* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                int64_t N, float* y, int64_t ldy) {
  int64_t r = r0;
  if (N == 1) {
    for (; r + 8 <= r1; r += 8) block_float<8, 1>(w, ldw, K, r, x, ldx, y, ldy);
  } else {
    for (; r + 4 <= r1; r += 4) tokens_float<4>(w, ldw, K, r, x, ldx, N, y, ldy);
  }
  for (; r < r1; ++r) tokens_float<1>(w, ldw, K, r, x, ldx, N, y, ldy);
}

// ---- int8 ----

inline int8x16_t load16_tail(const int8_t* p, int64_t left) {
  int8_t tmp[16] = {};
  std::memcpy(tmp, p, size_t(left));
  return vld1q_s8(tmp);
}

template <int R, int T>
inline void block_i8(const int8_t* w, int64_t ldw, const float* ws, int64_t K, int64_t r, const int8_t* x,
                     int64_t ldx, const float* inv, float* y, int64_t ldy) {
  int32x4_t acc[R][T];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[i][t] = vdupq_n_s32(0);
  auto step = [&](const int8x16_t* xv, const int8x16_t* wv) {
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
      for (int t = 0; t < T; ++t) {
        acc[i][t] = vpadalq_s16(acc[i][t], vmull_s8(vget_low_s8(wv[i]), vget_low_s8(xv[t])));
        acc[i][t] = vpadalq_s16(acc[i][t], vmull_high_s8(wv[i], xv[t]));
      }
  };
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    int8x16_t xv[T], wv[R];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = vld1q_s8(x + t * ldx + k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) wv[i] = vld1q_s8(w + (r + i) * ldw + k);
    step(xv, wv);
  }
  if (k < K) {
    int8x16_t xv[T], wv[R];
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) xv[t] = load16_tail(x + t * ldx + k, K - k);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) wv[i] = load16_tail(w + (r + i) * ldw + k, K - k);
    step(xv, wv);
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) y[t * ldy + r + i] = (float(vaddvq_s32(acc[i][t])) * ws[r + i]) * inv[t];
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

void gemm_f32_neon(const float* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                   int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_f16_neon(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                   int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_bf16_neon(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t N, float* y, int64_t ldy) {
  gemm_float(reinterpret_cast<const Bf16*>(w), ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_i8_neon(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
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
      for (; r + 4 <= r1; r += 4) block_i8<4, 1>(w, ldw, w_scale, K, r, xc, ldx, inv, yc, ldy);
    } else {
      for (; r + 2 <= r1; r += 2) tokens_i8<2>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
    }
    for (; r < r1; ++r) tokens_i8<1>(w, ldw, w_scale, K, r, xc, ldx, inv, nn, yc, ldy);
  }
}

}  // namespace bitnet::kernels::detail
