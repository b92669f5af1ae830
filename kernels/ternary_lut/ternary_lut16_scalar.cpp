// Scalar LUT ternary matmul on the L32x4 layout: the same algorithm as the AVX2 and NEON variants
// (per-pair tables split into low and high bytes, int16 rebuilt from both lookups, int16
// accumulation over 126 pairs, then int32), written plainly. It is their twin and, since the sums
// are exact, equal to the multiply-add kernels too.
#include <cstdint>
#include <cstring>

#include "ternary_lut/lut16_registry.h"

namespace bitnet::kernels::detail {
namespace {

int64_t bytes_of(int64_t K) { return (K + kLut16ByteWeights - 1) / kLut16ByteWeights; }

// Tables for pairs [2*j0, 2*(j0+nj)) of one token (nj bytes of codes); x beyond K counts as 0.
void build_tables(const int8_t* x, int64_t K, int64_t j0, int64_t nj, uint8_t* tab) {
  for (int64_t p = 0; p < 2 * nj; ++p) {
    const int64_t k = (2 * j0 + p) * 2;
    const int x0 = k < K ? x[k] : 0, x1 = k + 1 < K ? x[k + 1] : 0;
    uint8_t* t = tab + p * kLut16TableBytes;
    for (int c = 0; c < 16; ++c) {
      const int v = c < 9 ? (c / 3 - 1) * x0 + (c % 3 - 1) * x1 : 0;
      t[c] = static_cast<uint8_t>(v & 0xFF);
      t[16 + c] = static_cast<uint8_t>((v >> 8) & 0xFF);
    }
  }
}

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t B = bytes_of(K);
  uint8_t tab[kLut16ChunkPairs * kLut16TableBytes];
  for (int64_t n = 0; n < N; ++n) {
    int32_t* yn = y + n * ldy;
    for (int64_t j0 = 0; j0 < B; j0 += kLut16ChunkBytes) {
      const int64_t nj = B - j0 < kLut16ChunkBytes ? B - j0 : kLut16ChunkBytes;
      build_tables(x + n * ldx, K, j0, nj, tab);
      for (int64_t m = m0; m < m1; ++m) {
        const int64_t b = m / kLut16BlockRows, l = m % kLut16BlockRows;
        int16_t acc = 0;  // at most 126 lookups in [-256, 256]: never wraps
        for (int64_t j = 0; j < nj; ++j) {
          const uint8_t byte = packed[(b * B + j0 + j) * kLut16BlockRows + l];
          for (int h = 0; h < 2; ++h) {
            const uint8_t* t = tab + (2 * j + h) * kLut16TableBytes;
            const int code = (byte >> (4 * h)) & 15;
            const uint16_t v = static_cast<uint16_t>(t[code] | (t[16 + code] << 8));
            acc = static_cast<int16_t>(acc + static_cast<int16_t>(v));
          }
        }
        yn[m] = (j0 == 0 ? 0 : yn[m]) + acc;
      }
    }
  }
}

}  // namespace

const TernaryMatmul kLut16Scalar = {"lut16_scalar", static_cast<int>(kLut16BlockRows), lut16_packed_bytes,
                                    lut16_pack, matmul};

}  // namespace bitnet::kernels::detail
