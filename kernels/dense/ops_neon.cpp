// NEON float ops; see ops_avx512.cpp. Partial vectors go through zero-padded stack copies, which
// keeps tails in the same lanes as full vectors.
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "dense_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline float32x4_t load_tail(const float* p, int64_t left) {
  float tmp[4] = {};
  std::memcpy(tmp, p, size_t(left < 4 ? left : 4) * 4);
  return vld1q_f32(tmp);
}
inline void store_tail(float* p, float32x4_t v, int64_t left) {
  float tmp[4];
  vst1q_f32(tmp, v);
  std::memcpy(p, tmp, size_t(left < 4 ? left : 4) * 4);
}

// exp(t) for t <= 0; NaN passes (NEON min/max propagate NaN).
inline float32x4_t exp_nonpos(float32x4_t t) {
  const float32x4_t lo = vdupq_n_f32(kExpMin);
  const uint32x4_t under = vcltq_f32(t, lo);
  t = vmaxq_f32(t, lo);
  const float32x4_t fn = vrndnq_f32(vmulq_n_f32(t, kLog2e));
  float32x4_t r = vfmsq_n_f32(t, fn, kLn2Hi);
  r = vfmsq_n_f32(r, fn, kLn2Lo);
  float32x4_t p = vdupq_n_f32(kExpP0);
  p = vfmaq_f32(vdupq_n_f32(kExpP1), p, r);
  p = vfmaq_f32(vdupq_n_f32(kExpP2), p, r);
  p = vfmaq_f32(vdupq_n_f32(kExpP3), p, r);
  p = vfmaq_f32(vdupq_n_f32(kExpP4), p, r);
  p = vfmaq_f32(vdupq_n_f32(kExpP5), p, r);
  p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
  const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fn), vdupq_n_s32(127)), 23);
  const float32x4_t v = vmulq_f32(p, vreinterpretq_f32_s32(e));
  return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(v), under));
}

}  // namespace

float dot_f32_neon(const float* a, const float* b, int64_t n) {
  float32x4_t s0 = vdupq_n_f32(0.0f), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = vfmaq_f32(s0, vld1q_f32(a + i), vld1q_f32(b + i));
    s1 = vfmaq_f32(s1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
    s2 = vfmaq_f32(s2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
    s3 = vfmaq_f32(s3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
  }
  for (; i < n; i += 4) s0 = vfmaq_f32(s0, load_tail(a + i, n - i), load_tail(b + i, n - i));
  return vaddvq_f32(vaddq_f32(vaddq_f32(s0, s1), vaddq_f32(s2, s3)));
}

void axpy_f32_neon(float a, const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
  if (i < n) store_tail(y + i, vfmaq_n_f32(load_tail(y + i, n - i), load_tail(x + i, n - i), a), n - i);
}

void rms_norm_neon(const float* x, const float* w, int64_t n, float eps, float* y) {
  if (n <= 0) return;
  // The 16-lane order of dense.h as eight 2-double registers (lanes 2j, 2j+1 in d[j]).
  float64x2_t d[8];
  for (auto& v : d) v = vdupq_n_f64(0.0);
  for (int64_t i = 0; i < n; i += 16) {
    float32x4_t v[4];
    for (int u = 0; u < 4; ++u) v[u] = i + 4 * u + 4 <= n ? vld1q_f32(x + i + 4 * u) : load_tail(x + i + 4 * u, n - i - 4 * u < 0 ? 0 : n - i - 4 * u);
    for (int u = 0; u < 4; ++u) {
      const float64x2_t lo = vcvt_f64_f32(vget_low_f32(v[u])), hi = vcvt_high_f64_f32(v[u]);
      d[2 * u] = vfmaq_f64(d[2 * u], lo, lo);
      d[2 * u + 1] = vfmaq_f64(d[2 * u + 1], hi, hi);
    }
  }
  for (int j = 0; j < 4; ++j) d[j] = vaddq_f64(d[j], d[j + 4]);  // 8+8
  d[0] = vaddq_f64(d[0], d[2]);                                   // 4+4
  d[1] = vaddq_f64(d[1], d[3]);
  d[0] = vaddq_f64(d[0], d[1]);                                   // 2+2
  const double ss = vgetq_lane_f64(d[0], 0) + vgetq_lane_f64(d[0], 1);
  const float inv = 1.0f / vgetq_lane_f32(vsqrtq_f32(vdupq_n_f32(float(ss / double(n)) + eps)), 0);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vmulq_f32(vld1q_f32(w + i), vmulq_n_f32(vld1q_f32(x + i), inv)));
  if (i < n) store_tail(y + i, vmulq_f32(load_tail(w + i, n - i), vmulq_n_f32(load_tail(x + i, n - i), inv)), n - i);
}

void softmax_neon(float* x, int64_t n) {
  if (n <= 0) return;
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  const float32x4_t vmx = vdupq_n_f32(mx);
  float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
  for (int64_t i = 0; i < n; i += 4) {
    const int64_t left = n - i;
    const float32x4_t t = vminq_f32(vdupq_n_f32(0.0f), vsubq_f32(left >= 4 ? vld1q_f32(x + i) : load_tail(x + i, left), vmx));
    float32x4_t e = exp_nonpos(t);
    if (left < 4) {
      const int32_t idx[4] = {0, 1, 2, 3};
      const uint32x4_t keep = vcltq_s32(vld1q_s32(idx), vdupq_n_s32(int32_t(left)));  // padding lanes off
      e = vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(e), keep));
      store_tail(x + i, e, left);
    } else {
      vst1q_f32(x + i, e);
    }
    s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
    s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
  }
  const float64x2_t s = vaddq_f64(s0, s1);
  const float inv = float(1.0 / (vgetq_lane_f64(s, 0) + vgetq_lane_f64(s, 1)));
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
  for (; i < n; ++i) x[i] *= inv;
}

void attn_scores_neon(const float* q, const float* k, int64_t ldk, int64_t n_pos, int64_t hd, float scale,
                      float* s) {
  int64_t j = 0;
  for (; j + 4 <= n_pos; j += 4) {
    const float* k0 = k + j * ldk;
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = a0, a2 = a0, a3 = a0;
    int64_t i = 0;
    for (; i + 4 <= hd; i += 4) {
      const float32x4_t qv = vld1q_f32(q + i);
      a0 = vfmaq_f32(a0, qv, vld1q_f32(k0 + i));
      a1 = vfmaq_f32(a1, qv, vld1q_f32(k0 + ldk + i));
      a2 = vfmaq_f32(a2, qv, vld1q_f32(k0 + 2 * ldk + i));
      a3 = vfmaq_f32(a3, qv, vld1q_f32(k0 + 3 * ldk + i));
    }
    if (i < hd) {
      const float32x4_t qv = load_tail(q + i, hd - i);
      a0 = vfmaq_f32(a0, qv, load_tail(k0 + i, hd - i));
      a1 = vfmaq_f32(a1, qv, load_tail(k0 + ldk + i, hd - i));
      a2 = vfmaq_f32(a2, qv, load_tail(k0 + 2 * ldk + i, hd - i));
      a3 = vfmaq_f32(a3, qv, load_tail(k0 + 3 * ldk + i, hd - i));
    }
    s[j] = scale * vaddvq_f32(a0);
    s[j + 1] = scale * vaddvq_f32(a1);
    s[j + 2] = scale * vaddvq_f32(a2);
    s[j + 3] = scale * vaddvq_f32(a3);
  }
  for (; j < n_pos; ++j) s[j] = scale * dot_f32_neon(q, k + j * ldk, hd);
}

void attn_values_neon(const float* p, const float* v, int64_t ldv, int64_t n_pos, int64_t hd, float* out) {
  int64_t i = 0;
  for (; i + 32 <= hd; i += 32) {
    float32x4_t acc[8];
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) acc[u] = vld1q_f32(out + i + 4 * u);
    for (int64_t j = 0; j < n_pos; ++j) {
      const float* vj = v + j * ldv + i;
#pragma GCC unroll 8
      for (int u = 0; u < 8; ++u) acc[u] = vfmaq_n_f32(acc[u], vld1q_f32(vj + 4 * u), p[j]);
    }
#pragma GCC unroll 8
    for (int u = 0; u < 8; ++u) vst1q_f32(out + i + 4 * u, acc[u]);
  }
  for (; i < hd; i += 4) {
    float32x4_t acc = load_tail(out + i, hd - i);
    for (int64_t j = 0; j < n_pos; ++j) acc = vfmaq_n_f32(acc, load_tail(v + j * ldv + i, hd - i), p[j]);
    store_tail(out + i, acc, hd - i);
  }
}

uint64_t byte_sum_neon(const uint8_t* p, size_t n) {
  // 64 bytes widen to eight u16 lanes (at most 8 * 255 each), then into the u64 accumulator.
  uint64x2_t acc = vdupq_n_u64(0);
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint16x8_t s = vpaddlq_u8(vld1q_u8(p + i));
    s = vpadalq_u8(s, vld1q_u8(p + i + 16));
    s = vpadalq_u8(s, vld1q_u8(p + i + 32));
    s = vpadalq_u8(s, vld1q_u8(p + i + 48));
    acc = vpadalq_u32(acc, vpaddlq_u16(s));
  }
  uint64_t sum = vgetq_lane_u64(acc, 0) + vgetq_lane_u64(acc, 1);
  for (; i < n; ++i) sum += p[i];
  return sum;
}

void f16_to_f32_neon(const uint16_t* h, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h + i))));
  if (i < n) {
    uint16_t tmp[4] = {};
    float wide[4];
    for (int64_t j = i; j < n; ++j) tmp[j - i] = h[j];
    vst1q_f32(wide, vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(tmp))));
    for (int64_t j = i; j < n; ++j) out[j] = wide[j - i];
  }
}

void kv_dequant_neon(const uint8_t* codes, int64_t n, int bits, float scale, float* out) {
  int64_t i = 0;
  if (bits == 8) {
    for (; i + 8 <= n; i += 8) {
      const int16x8_t q = vmovl_s8(vld1_s8(reinterpret_cast<const int8_t*>(codes + i)));
      vst1q_f32(out + i, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(q))), scale));
      vst1q_f32(out + i + 4, vmulq_n_f32(vcvtq_f32_s32(vmovl_s16(vget_high_s16(q))), scale));
    }
    for (; i < n; ++i) out[i] = float(static_cast<int8_t>(codes[i])) * scale;
    return;
  }
  // 8 codes are one little-endian word of `bits` bytes: duplicate it and shift each lane right by
  // its code's bit offset (vshlq by a negative count).
  const int32_t b = bits;
  const int32x4_t shift_lo = {0, -b, -2 * b, -3 * b}, shift_hi = {-4 * b, -5 * b, -6 * b, -7 * b};
  const uint32x4_t code_mask = vdupq_n_u32((1u << bits) - 1);
  const int32x4_t offset = vdupq_n_s32(1 << (bits - 1));
  for (; i < n; i += 8) {
    const int64_t left = n - i;
    const int64_t bytes = bits == 3 ? 3 : (left >= 8 ? 4 : (left + 1) / 2);
    uint32_t word = 0;
    std::memcpy(&word, codes + i / 8 * bits, size_t(bytes));
    const uint32x4_t w = vdupq_n_u32(word);
    const int32x4_t lo = vsubq_s32(vreinterpretq_s32_u32(vandq_u32(vshlq_u32(w, shift_lo), code_mask)), offset);
    const int32x4_t hi = vsubq_s32(vreinterpretq_s32_u32(vandq_u32(vshlq_u32(w, shift_hi), code_mask)), offset);
    float tmp[8];
    vst1q_f32(tmp, vmulq_n_f32(vcvtq_f32_s32(lo), scale));
    vst1q_f32(tmp + 4, vmulq_n_f32(vcvtq_f32_s32(hi), scale));
    std::memcpy(out + i, tmp, size_t(left >= 8 ? 8 : left) * sizeof(float));
  }
}
}  // namespace bitnet::kernels::detail
