// NEON LUT ternary matmul on the L32x4 layout (lut16_registry.h); baseline AArch64 Advanced SIMD.
//
// One tbl (vqtbl1q_u8) looks up 16 rows' pair codes in the 16-byte table of one token's pair; each
// pair needs two lookups, the low and the high byte of the exact int16 sum T. The bytes are
// accumulated separately, which costs fewer instructions than zipping them back into int16:
//   * low bytes are widened into uint16 accumulators with uaddw/uaddw2 (at most 126 * 255 per
//     chunk, no wrap);
//   * the high byte of T (T in [-256, 256]) is -1, 0 or 1; summed as int8 over a chunk of 126
//     pairs it stays in [-126, 126].
// The chunk flush rebuilds low + 256 * high in int16 (exact: |.| <= 32256) and widens to int32.
//
// Loop order: token tile (2) > K chunk (126 pairs; tables 4 KB per token, in L1) > 32-row groups >
// bytes. Partial sums go to y as int32 after every chunk (the first chunk stores, later ones add).
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "ternary_lut/lut16_registry.h"

namespace bitnet::kernels::detail {
namespace {

constexpr int kTokens = 2;  // token tile

inline int64_t bytes_of(int64_t K) { return (K + kLut16ByteWeights - 1) / kLut16ByteWeights; }

// The code digits (w0, w1) of entries 0-7 and 8-15 (entries 9-15 are 0).
struct Patterns {
  int16x8_t w0[2], w1[2];
};

inline Patterns patterns() {
  int16_t w0[16], w1[16];
  for (int c = 0; c < 16; ++c) {
    w0[c] = static_cast<int16_t>(c < 9 ? c / 3 - 1 : 0);
    w1[c] = static_cast<int16_t>(c < 9 ? c % 3 - 1 : 0);
  }
  return {{vld1q_s16(w0), vld1q_s16(w0 + 8)}, {vld1q_s16(w1), vld1q_s16(w1 + 8)}};
}

// Tables of one token for pairs [2*j0, 2*(j0+nj)): 16 low bytes then 16 high bytes per pair.
inline void build_tables(const Patterns& P, const int8_t* x, int64_t K, int64_t j0, int64_t nj, uint8_t* tab) {
  int8_t xs[kLut16ChunkBytes * kLut16ByteWeights];
  const int64_t k0 = j0 * kLut16ByteWeights, len = nj * kLut16ByteWeights;
  const int64_t valid = K - k0 < len ? K - k0 : len;
  std::memset(xs, 0, sizeof(xs));  // x beyond K counts as 0
  std::memcpy(xs, x + k0, static_cast<size_t>(valid));
  for (int64_t p = 0; p < 2 * nj; ++p) {
    const int16_t x0 = xs[2 * p], x1 = xs[2 * p + 1];
    const int16x8_t t0 = vmlaq_n_s16(vmulq_n_s16(P.w0[0], x0), P.w1[0], x1);
    const int16x8_t t1 = vmlaq_n_s16(vmulq_n_s16(P.w0[1], x0), P.w1[1], x1);
    const uint8x16_t b0 = vreinterpretq_u8_s16(t0), b1 = vreinterpretq_u8_s16(t1);
    vst1q_u8(tab + p * kLut16TableBytes, vuzp1q_u8(b0, b1));       // low bytes (little-endian)
    vst1q_u8(tab + p * kLut16TableBytes + 16, vuzp2q_u8(b0, b1));  // high bytes
  }
}

// Byte-split accumulators of 16 rows x one token.
struct Acc {
  uint16x8_t lo0, lo1;  // rows 0-7, 8-15: sums of the low bytes
  uint8x16_t neg;       // int8 sums of the high bytes (-1, 0 or 1 each)
};

inline void add_lookup(Acc& a, uint8x16_t nib, uint8x16_t tlo, uint8x16_t thi) {
  const uint8x16_t lo = vqtbl1q_u8(tlo, nib);
  a.lo0 = vaddw_u8(a.lo0, vget_low_u8(lo));
  a.lo1 = vaddw_high_u8(a.lo1, lo);
  a.neg = vaddq_u8(a.neg, vqtbl1q_u8(thi, nib));
}

// The 16 int32 sums of one accumulator.
inline void finish(const Acc& a, int32_t* v) {
  const int8x16_t neg = vreinterpretq_s8_u8(a.neg);
  const int16x8_t s0 = vaddq_s16(vreinterpretq_s16_u16(a.lo0), vshll_n_s8(vget_low_s8(neg), 8));
  const int16x8_t s1 = vaddq_s16(vreinterpretq_s16_u16(a.lo1), vshll_n_s8(vget_high_s8(neg), 8));
  vst1q_s32(v, vmovl_s16(vget_low_s16(s0)));
  vst1q_s32(v + 4, vmovl_high_s16(s0));
  vst1q_s32(v + 8, vmovl_s16(vget_low_s16(s1)));
  vst1q_s32(v + 12, vmovl_high_s16(s1));
}

// Adds (or stores, if first) 32 sums into y rows [base, base+32) within [m0, m1).
inline void flush(const int32_t* v, int32_t* y, int64_t base, int64_t m0, int64_t m1, bool first) {
  if (base >= m0 && base + kLut16BlockRows <= m1) {
    for (int q = 0; q < 8; ++q) {
      int32x4_t s = vld1q_s32(v + 4 * q);
      if (!first) s = vaddq_s32(s, vld1q_s32(y + base + 4 * q));
      vst1q_s32(y + base + 4 * q, s);
    }
    return;
  }
  for (int64_t i = 0; i < kLut16BlockRows; ++i) {
    const int64_t m = base + i;
    if (m >= m0 && m < m1) y[m] = (first ? 0 : y[m]) + v[i];
  }
}

// One 32-row group x T tokens over chunk bytes [j0, j0+nj).
template <int T>
inline void tile(const uint8_t* packed, int64_t B, int64_t g, int64_t j0, int64_t nj, const uint8_t* tab,
                 int64_t tab_stride, int32_t* y, int64_t ldy, int64_t m0, int64_t m1, bool first) {
  const uint8_t* src = packed + (g * B + j0) * kLut16BlockRows;
  const uint8x16_t low4 = vdupq_n_u8(0x0F);
  Acc acc[T][2];
  for (int t = 0; t < T; ++t)
    for (int s = 0; s < 2; ++s) acc[t][s] = {vdupq_n_u16(0), vdupq_n_u16(0), vdupq_n_u8(0)};
  for (int64_t j = 0; j < nj; ++j) {
    const uint8x16_t v0 = vld1q_u8(src + j * kLut16BlockRows), v1 = vld1q_u8(src + j * kLut16BlockRows + 16);
    const uint8x16_t nib[2][2] = {{vandq_u8(v0, low4), vandq_u8(v1, low4)}, {vshrq_n_u8(v0, 4), vshrq_n_u8(v1, 4)}};
    for (int h = 0; h < 2; ++h) {  // low nibble: pair 2j, high nibble: pair 2j+1
      for (int t = 0; t < T; ++t) {
        const uint8_t* tp = tab + t * tab_stride + (2 * j + h) * kLut16TableBytes;
        const uint8x16_t tlo = vld1q_u8(tp), thi = vld1q_u8(tp + 16);
        add_lookup(acc[t][0], nib[h][0], tlo, thi);
        add_lookup(acc[t][1], nib[h][1], tlo, thi);
      }
    }
  }
  const int64_t base = g * kLut16BlockRows;
  for (int t = 0; t < T; ++t) {
    int32_t v[32];
    finish(acc[t][0], v);
    finish(acc[t][1], v + 16);
    flush(v, y + t * ldy, base, m0, m1, first);
  }
}

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t B = bytes_of(K);
  const int64_t g_begin = m0 / kLut16BlockRows, g_end = (m1 + kLut16BlockRows - 1) / kLut16BlockRows;
  constexpr int64_t kTabStride = kLut16ChunkPairs * kLut16TableBytes;
  alignas(16) uint8_t tab[kTokens * kTabStride];
  const Patterns P = patterns();
  for (int64_t n0 = 0; n0 < N; n0 += kTokens) {
    const int nt = static_cast<int>(N - n0 < kTokens ? N - n0 : kTokens);
    for (int64_t j0 = 0; j0 < B; j0 += kLut16ChunkBytes) {
      const int64_t nj = B - j0 < kLut16ChunkBytes ? B - j0 : kLut16ChunkBytes;
      for (int t = 0; t < nt; ++t) build_tables(P, x + (n0 + t) * ldx, K, j0, nj, tab + t * kTabStride);
      int32_t* yt = y + n0 * ldy;
      for (int64_t g = g_begin; g < g_end; ++g) {
        if (nt == 2) {
          tile<2>(packed, B, g, j0, nj, tab, kTabStride, yt, ldy, m0, m1, j0 == 0);
        } else {
          tile<1>(packed, B, g, j0, nj, tab, kTabStride, yt, ldy, m0, m1, j0 == 0);
        }
      }
    }
  }
}

}  // namespace

const TernaryMatmul kLut16Neon = {"lut16_neon", static_cast<int>(kLut16BlockRows), lut16_packed_bytes, lut16_pack,
                                  matmul};

}  // namespace bitnet::kernels::detail
