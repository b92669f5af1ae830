// IEEE binary16 and bfloat16 conversions, bit-exact with ggml's reference (scalar) paths:
// f32 -> f16 / bf16 round to nearest even, NaN stays NaN (quieted), overflow goes to infinity.
#pragma once

#include <cstdint>
#include <cstring>

namespace bitnet {

inline uint32_t f32_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float f32_from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

inline float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  if (exp == 0x1f)  // inf, or NaN made quiet as F16C does
    return f32_from_bits(sign | 0x7f800000u | (mant ? 0x400000u | (mant << 13) : 0));
  if (exp != 0) return f32_from_bits(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return f32_from_bits(sign);
  // Subnormal half: value = mant * 2^-24, exactly representable as a normal float.
  const float v = float(mant) * (1.0f / 16777216.0f);
  return sign ? -v : v;
}

inline uint16_t f32_to_f16(float f) {
  const uint32_t u = f32_bits(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000);
  const uint32_t a = u & 0x7fffffffu;
  if (a > 0x7f800000u) return uint16_t(sign | 0x7e00 | ((a >> 13) & 0x3ff));  // NaN, kept quiet
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00);  // rounds to >= 65536: infinity
  if (a < 0x38800000u) {
    // Result is subnormal (or zero) in half: value / 2^-24 rounded to nearest even.
    if (a < 0x33000000u) return sign;  // below half of the smallest subnormal (ties to 0 included)
    const uint32_t e = a >> 23;
    const uint32_t m = (a & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14..24: m * 2^(e-150) / 2^-24 = m >> (126 - e)
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (r & 1))) ++r;
    return uint16_t(sign | r);
  }
  // Normal: rebias the exponent, round the mantissa from 23 to 10 bits (carry may bump exponent).
  uint32_t r = a - 0x38000000u;  // exponent bias 127 -> 15
  r += 0xfff + ((r >> 13) & 1);
  return uint16_t(sign | (r >> 13));
}

inline float bf16_to_f32(uint16_t h) { return f32_from_bits(uint32_t(h) << 16); }

inline uint16_t f32_to_bf16(float f) {
  const uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 64);  // quiet NaN
  return uint16_t((u + (0x7fff + ((u >> 16) & 1))) >> 16);
}

}  // namespace bitnet
