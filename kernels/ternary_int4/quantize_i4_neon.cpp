// NEON INT4 absmean quantizer; bit-identical to quantize_i4_scalar: four 4-lane registers hold the
// scalar's 16 partial sums (register q lane i = lane 4q + i, i.e. k % 16 == 4q + i; the zero-padded
// tail adds +0, which leaves a non-negative sum unchanged), folded in the same order (8+8, 4+4, 2+2,
// 1+1); vcvtnq rounds ties-to-even like nearbyint under the default rounding mode.
#include <arm_neon.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {
namespace {

// 16 floats times s, rounded, clamped to [-8, 7], narrowed to int8.
inline int8x16_t to_i4x16(const float* p, float32x4_t vs) {
  const int32x4_t lo = vdupq_n_s32(-8), hi = vdupq_n_s32(7);
  int16x4_t h[4];
  for (int q = 0; q < 4; ++q) {
    const int32x4_t r = vcvtnq_s32_f32(vmulq_f32(vld1q_f32(p + 4 * q), vs));
    h[q] = vmovn_s32(vminq_s32(vmaxq_s32(r, lo), hi));
  }
  return vcombine_s8(vmovn_s16(vcombine_s16(h[0], h[1])), vmovn_s16(vcombine_s16(h[2], h[3])));
}

}  // namespace

float quantize_i4_neon(const float* x, int64_t K, int8_t* q) {
  if (K <= 0) return 0.0f;
  const int64_t full = K / 16 * 16;
  const int tail = static_cast<int>(K - full);
  float xt[16] = {};
  if (tail) std::memcpy(xt, x + full, sizeof(float) * static_cast<size_t>(tail));
  const float32x4_t fmax = vdupq_n_f32(FLT_MAX);
  float32x4_t a[4];
  for (int i = 0; i < 4; ++i) a[i] = vdupq_n_f32(0.0f);
  uint32x4_t ok = vdupq_n_u32(~0u);
  auto add16 = [&](const float* p) {
    for (int i = 0; i < 4; ++i) {
      const float32x4_t v = vabsq_f32(vld1q_f32(p + 4 * i));
      ok = vandq_u32(ok, vcleq_f32(v, fmax));  // false for inf and NaN
      a[i] = vaddq_f32(a[i], v);
    }
  };
  for (int64_t k = 0; k < full; k += 16) add16(x + k);
  if (tail) add16(xt);
  if (vminvq_u32(ok) == 0) {
    std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  // lane[i] += lane[i + 8] (i < 8), then lane[i] += lane[i + 4] (i < 4), then 2+2 and 1+1.
  const float32x4_t f = vaddq_f32(vaddq_f32(a[0], a[2]), vaddq_f32(a[1], a[3]));
  const float f01 = vgetq_lane_f32(f, 0) + vgetq_lane_f32(f, 2);
  const float f23 = vgetq_lane_f32(f, 1) + vgetq_lane_f32(f, 3);
  const float mean = (f01 + f23) / static_cast<float>(K);
  const float s = 2.64575131106459059f / (mean > 1e-5f ? mean : 1e-5f);
  const float32x4_t vs = vdupq_n_f32(s);
  for (int64_t k = 0; k < full; k += 16) vst1q_s8(q + k, to_i4x16(x + k, vs));
  if (tail) {
    int8_t qt[16];
    vst1q_s8(qt, to_i4x16(xt, vs));
    std::memcpy(q + full, qt, static_cast<size_t>(tail));
  }
  return s;
}

}  // namespace bitnet::kernels::detail
