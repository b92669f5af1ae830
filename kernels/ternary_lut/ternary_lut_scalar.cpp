// Scalar LUT ternary matmul: the same algorithm as the SIMD LUT variants (per-triplet tables of
// exact int16 partial sums, int16 accumulation over 84 lookups, then int32), written plainly. It is
// their twin and, since the sums are exact, equal to the multiply-add kernels too.
#include <cstdint>
#include <cstring>

#include "ternary_lut/lut_registry.h"

namespace bitnet::kernels::detail {
namespace {

int64_t words_of(int64_t K) { return (K + kLutWordWeights - 1) / kLutWordWeights; }

// Tables for triplets [3*w0, 3*(w0+nw)) of one token; x beyond K counts as 0.
void build_tables(const int8_t* x, int64_t K, int64_t w0, int64_t nw, int16_t* tab) {
  const int64_t k0 = w0 * kLutWordWeights;
  for (int64_t j = 0; j < nw * kLutWordTriplets; ++j) {
    int v[3];
    for (int i = 0; i < 3; ++i) {
      const int64_t k = k0 + 3 * j + i;
      v[i] = k < K ? x[k] : 0;
    }
    int16_t* t = tab + j * kLutTableEntries;
    for (int c = 0; c < kLutTableEntries; ++c) {
      t[c] = c < 27 ? static_cast<int16_t>((c / 9 - 1) * v[0] + (c / 3 % 3 - 1) * v[1] + (c % 3 - 1) * v[2])
                    : 0;
    }
  }
}

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t W = words_of(K);
  int16_t tab[kLutChunkTriplets * kLutTableEntries];
  for (int64_t n = 0; n < N; ++n) {
    int32_t* yn = y + n * ldy;
    for (int64_t w0 = 0; w0 < W; w0 += kLutChunkWords) {
      const int64_t nw = W - w0 < kLutChunkWords ? W - w0 : kLutChunkWords;
      build_tables(x + n * ldx, K, w0, nw, tab);
      for (int64_t m = m0; m < m1; ++m) {
        const int64_t b = m / kLutBlockRows, l = m % kLutBlockRows;
        int16_t acc = 0;  // |acc| <= 84 * 384 < 32768: never wraps
        for (int64_t wi = 0; wi < nw; ++wi) {
          uint16_t word;
          std::memcpy(&word, packed + ((b * W + w0 + wi) * kLutBlockRows + l) * 2, 2);
          for (int64_t s = 0; s < kLutWordTriplets; ++s) {
            const int code = (word >> (5 * s)) & 31;
            acc = static_cast<int16_t>(acc + tab[(wi * kLutWordTriplets + s) * kLutTableEntries + code]);
          }
        }
        yn[m] = (w0 == 0 ? 0 : yn[m]) + acc;
      }
    }
  }
}

}  // namespace

const TernaryMatmul kLutScalar = {"lut_scalar", static_cast<int>(kLutBlockRows), lut_packed_bytes, lut_pack,
                                  matmul};

}  // namespace bitnet::kernels::detail
