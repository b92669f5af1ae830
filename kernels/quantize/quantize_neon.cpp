// NEON per-token int8 quantizer; bit-identical to quantize_i8_scalar: vcvtnq rounds ties-to-even
// (what nearbyint does under the default mode) and vqmovn saturates like the scalar clamp.
#include <arm_neon.h>

#include <cfloat>
#include <cstdint>
#include <cstring>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline int8x8_t to_i8x8(float32x4_t a, float32x4_t b) {
  const int16x8_t h = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(a)), vqmovn_s32(vcvtnq_s32_f32(b)));
  return vqmovn_s16(h);
}

}  // namespace

float quantize_i8_neon(const float* x, int64_t K, int8_t* q) {
  const int64_t full = K / 8 * 8;
  const int tail = static_cast<int>(K - full);
  float xt[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  if (tail) std::memcpy(xt, x + full, sizeof(float) * static_cast<size_t>(tail));
  const float32x4_t fmax = vdupq_n_f32(FLT_MAX);
  float32x4_t vmax = vdupq_n_f32(0.0f);
  uint32x4_t ok = vdupq_n_u32(~0u);
  auto scan = [&](const float* p) {
    for (int h = 0; h < 8; h += 4) {
      const float32x4_t a = vabsq_f32(vld1q_f32(p + h));
      ok = vandq_u32(ok, vcleq_f32(a, fmax));  // false for inf and NaN
      vmax = vmaxq_f32(vmax, a);
    }
  };
  for (int64_t k = 0; k < full; k += 8) scan(x + k);
  scan(xt);
  if (vminvq_u32(ok) == 0) {
    if (K > 0) std::memset(q, 0, static_cast<size_t>(K));
    return 0.0f;
  }
  const float amax = vmaxvq_f32(vmax);
  const float s = 127.0f / (amax > 1e-5f ? amax : 1e-5f);
  const float32x4_t vs = vdupq_n_f32(s);
  for (int64_t k = 0; k < full; k += 8)
    vst1_s8(q + k, to_i8x8(vmulq_f32(vld1q_f32(x + k), vs), vmulq_f32(vld1q_f32(x + k + 4), vs)));
  if (tail) {
    int8_t qt[8];
    vst1_s8(qt, to_i8x8(vmulq_f32(vld1q_f32(xt), vs), vmulq_f32(vld1q_f32(xt + 4), vs)));
    std::memcpy(q + full, qt, static_cast<size_t>(tail));
  }
  return s;
}

}  // namespace bitnet::kernels::detail
