// Packing into the L64x9 layout (lut_registry.h). Portable code shared by every LUT variant, so
// the layout cannot drift between a variant and its scalar twin.
#include <cstdint>
#include <cstring>

#include "ternary_lut/lut_registry.h"

namespace bitnet::kernels::detail {
namespace {

int64_t words_of(int64_t K) { return (K + kLutWordWeights - 1) / kLutWordWeights; }
int64_t blocks_of(int64_t M) { return (M + kLutBlockRows - 1) / kLutBlockRows; }

// Other values count by their sign, as in the multiply-add kernels.
int digit_of(int8_t w) { return w > 0 ? 2 : (w < 0 ? 0 : 1); }

}  // namespace

size_t lut_packed_bytes(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0) return 0;
  return static_cast<size_t>(blocks_of(M) * words_of(K) * kLutBlockRows) * sizeof(uint16_t);
}

void lut_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  if (M <= 0 || K <= 0) return;
  const int64_t W = words_of(K), B = blocks_of(M);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t wi = 0; wi < W; ++wi) {
      for (int64_t l = 0; l < kLutBlockRows; ++l) {
        const int64_t m = b * kLutBlockRows + l;
        uint16_t word = 0;
        for (int64_t s = 0; s < kLutWordTriplets; ++s) {
          int code = 0;
          for (int64_t i = 0; i < 3; ++i) {
            const int64_t k = wi * kLutWordWeights + 3 * s + i;
            code = 3 * code + (m < M && k < K ? digit_of(w[m * K + k]) : 1);
          }
          word = static_cast<uint16_t>(word | (code << (5 * s)));
        }
        // memcpy: dst is only guaranteed 64-byte aligned as a whole; keeps the byte order explicit
        // (little-endian, as every supported target).
        std::memcpy(dst + ((b * W + wi) * kLutBlockRows + l) * 2, &word, 2);
      }
    }
  }
}

}  // namespace bitnet::kernels::detail
