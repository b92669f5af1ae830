// Packing into the L32x4 layout (lut16_registry.h). Portable code shared by the AVX2 and NEON LUT
// kernels and their scalar twin, so the layout cannot drift between them.
#include <cstdint>
#include <cstring>

#include "ternary_lut/lut16_registry.h"

namespace bitnet::kernels::detail {
namespace {

int64_t bytes_of(int64_t K) { return (K + kLut16ByteWeights - 1) / kLut16ByteWeights; }
int64_t blocks_of(int64_t M) { return (M + kLut16BlockRows - 1) / kLut16BlockRows; }

// Other values count by their sign, as in the multiply-add kernels.
int digit_of(int8_t w) { return w > 0 ? 2 : (w < 0 ? 0 : 1); }

}  // namespace

size_t lut16_packed_bytes(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0) return 0;
  return static_cast<size_t>(blocks_of(M) * bytes_of(K) * kLut16BlockRows);
}

void lut16_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  if (M <= 0 || K <= 0) return;
  const int64_t B = bytes_of(K), nb = blocks_of(M);
  for (int64_t b = 0; b < nb; ++b) {
    for (int64_t j = 0; j < B; ++j) {
      for (int64_t l = 0; l < kLut16BlockRows; ++l) {
        const int64_t m = b * kLut16BlockRows + l;
        int byte = 0;
        for (int64_t h = 0; h < 2; ++h) {  // low nibble: pair 2j, high nibble: pair 2j+1
          int code = 0;
          for (int64_t i = 0; i < 2; ++i) {
            const int64_t k = j * kLut16ByteWeights + 2 * h + i;
            code = 3 * code + (m < M && k < K ? digit_of(w[m * K + k]) : 1);
          }
          byte |= code << (4 * h);
        }
        dst[(b * B + j) * kLut16BlockRows + l] = static_cast<uint8_t>(byte);
      }
    }
  }
}

}  // namespace bitnet::kernels::detail
