// Scalar twins of the dense kernels: the reference every SIMD variant is tested against, and what
// runs on CPUs without SIMD support. Float sums use 8 interleaved partial sums (as the SIMD lanes
// do), so the error bounds in dense.h hold here too and the compiler may vectorise without
// -ffast-math.
#include <cmath>
#include <cstring>
#include <type_traits>

#include "dense_registry.h"
#include "format/half.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int kLanes = 8;
constexpr int64_t kChunk = 256;  // f16 weights are converted this many at a time
constexpr int kTokBlock = 4;

// acc[t][j] += sum over k of w[k] * x_t[k] for k = j mod 8 (k relative to the chunk start, which
// is a multiple of 8, so lane assignment is global).
inline void accumulate(const float* w, int64_t n, const float* const* x, int T, float (*acc)[kLanes]) {
  for (int t = 0; t < T; ++t) {
    const float* xt = x[t];
    int64_t k = 0;
    for (; k + kLanes <= n; k += kLanes)
      for (int j = 0; j < kLanes; ++j) acc[t][j] += w[k + j] * xt[k + j];
    for (int j = 0; k + j < n; ++j) acc[t][j] += w[k + j] * xt[k + j];
  }
}

inline float fold(const float* a) { return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7])); }

template <class W>
void gemm_float(const W* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                int64_t N, float* y, int64_t ldy) {
  float wf[kChunk];
  for (int64_t r = r0; r < r1; ++r) {
    const W* wr = w + r * ldw;
    for (int64_t n0 = 0; n0 < N; n0 += kTokBlock) {
      const int T = int(N - n0 < kTokBlock ? N - n0 : kTokBlock);
      float acc[kTokBlock][kLanes] = {};
      const float* xs[kTokBlock];
      for (int64_t k0 = 0; k0 < K; k0 += kChunk) {
        const int64_t n = K - k0 < kChunk ? K - k0 : kChunk;
        const float* wk;
        if constexpr (std::is_same_v<W, uint16_t>) {
          for (int64_t k = 0; k < n; ++k) wf[k] = f16_to_f32(wr[k0 + k]);
          wk = wf;
        } else if constexpr (std::is_same_v<W, Bf16>) {
          for (int64_t k = 0; k < n; ++k) wf[k] = bf16_to_f32(wr[k0 + k].bits);
          wk = wf;
        } else {
          wk = wr + k0;
        }
        for (int t = 0; t < T; ++t) xs[t] = x + (n0 + t) * ldx + k0;
        accumulate(wk, n, xs, T, acc);
      }
      for (int t = 0; t < T; ++t) y[(n0 + t) * ldy + r] = fold(acc[t]);
    }
  }
}

}  // namespace

void gemm_f32_scalar(const float* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x, int64_t ldx,
                     int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_f16_scalar(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t N, float* y, int64_t ldy) {
  gemm_float(w, ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_bf16_scalar(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                     int64_t ldx, int64_t N, float* y, int64_t ldy) {
  gemm_float(reinterpret_cast<const Bf16*>(w), ldw, K, r0, r1, x, ldx, N, y, ldy);
}

void gemm_i8_scalar(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
                    const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy) {
  for (int64_t n = 0; n < N; ++n) {
    const float inv = 1.0f / x_scale[n];
    const int8_t* xn = x + n * ldx;
    for (int64_t r = r0; r < r1; ++r) {
      const int8_t* wr = w + r * ldw;
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += int32_t(wr[k]) * int32_t(xn[k]);
      y[n * ldy + r] = (float(acc) * w_scale[r]) * inv;
    }
  }
}

float dot_f32_scalar(const float* a, const float* b, int64_t n) {
  float acc[1][kLanes] = {};
  const float* xs[1] = {b};
  accumulate(a, n, xs, 1, acc);
  return fold(acc[0]);
}

void axpy_f32_scalar(float a, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}

void rms_norm_scalar(const float* x, const float* w, int64_t n, float eps, float* y) {
  if (n <= 0) return;
  double p[16] = {};
  for (int64_t i = 0; i < n; ++i) p[i % 16] += double(x[i]) * double(x[i]);
  for (int s = 8; s >= 1; s /= 2)
    for (int j = 0; j < s; ++j) p[j] += p[j + s];
  const float inv = 1.0f / std::sqrt(float(p[0] / double(n)) + eps);
  for (int64_t i = 0; i < n; ++i) y[i] = w[i] * (x[i] * inv);
}

namespace {

// See kExpMin etc. in dense_registry.h. t <= 0 or NaN.
inline float exp_nonpos(float t) {
  if (t != t) return t;
  if (t < kExpMin) return 0.0f;
  const float fn = std::nearbyint(t * kLog2e);
  const float r = (t - fn * kLn2Hi) - fn * kLn2Lo;
  float p = kExpP0;
  p = p * r + kExpP1;
  p = p * r + kExpP2;
  p = p * r + kExpP3;
  p = p * r + kExpP4;
  p = p * r + kExpP5;
  p = (p * (r * r) + r) + 1.0f;
  const uint32_t bits = uint32_t(int32_t(fn) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return p * scale;
}

}  // namespace

void softmax_scalar(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float t = x[i] - mx;
    if (t > 0.0f) t = 0.0f;  // only rounding could make it positive; NaN passes through
    x[i] = exp_nonpos(t);
    sum += double(x[i]);
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void attn_scores_scalar(const float* q, const float* k, int64_t ldk, int64_t n_pos, int64_t hd, float scale,
                        float* s) {
  for (int64_t j = 0; j < n_pos; ++j) s[j] = scale * dot_f32_scalar(q, k + j * ldk, hd);
}

void attn_values_scalar(const float* p, const float* v, int64_t ldv, int64_t n_pos, int64_t hd, float* out) {
  for (int64_t j = 0; j < n_pos; ++j) axpy_f32_scalar(p[j], v + j * ldv, out, hd);
}

uint64_t byte_sum_scalar(const uint8_t* p, size_t n) {
  uint64_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += p[i];
  return sum;
}

void f16_to_f32_scalar(const uint16_t* h, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(h[i]);
}

void kv_dequant_scalar(const uint8_t* codes, int64_t n, int bits, float scale, float* out) {
  if (bits == 8) {
    for (int64_t i = 0; i < n; ++i) out[i] = float(static_cast<int8_t>(codes[i])) * scale;
  } else if (bits == 4) {
    for (int64_t i = 0; i < n; ++i) out[i] = float(int((codes[i / 2] >> (4 * (i & 1))) & 15) - 8) * scale;
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t* g = codes + i / 8 * 3;
      const uint32_t word = uint32_t(g[0]) | (uint32_t(g[1]) << 8) | (uint32_t(g[2]) << 16);
      out[i] = float(int((word >> (3 * (i & 7))) & 7) - 4) * scale;
    }
  }
}

}  // namespace bitnet::kernels::detail
