// The packed layout of the 256-bit multiply-add kernels (AVX2: 4-row groups, AVX-VNNI: 2-row
// groups). Portable code, compiled without ISA flags: packing runs once at load time.
#include <cstdint>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {

size_t slot_packed_bytes(int64_t M, int64_t K, int64_t rows) {
  if (M <= 0 || K <= 0 || rows <= 0) return 0;
  return static_cast<size_t>((M + rows - 1) / rows * ((K + 127) / 128) * rows * 32);
}

void slot_pack(const int8_t* w, int64_t M, int64_t K, int64_t rows, uint8_t* dst) {
  const int64_t G = (M + rows - 1) / rows, KB = (K + 127) / 128;
  for (int64_t g = 0; g < G; ++g) {
    for (int64_t b = 0; b < KB; ++b) {
      uint8_t* blk = dst + (g * KB + b) * rows * 32;
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t m = g * rows + r;
        for (int64_t j = 0; j < 32; ++j) {
          uint8_t byte = 0;
          for (int64_t s = 0; s < 4; ++s) {
            const int64_t k = b * 128 + 32 * s + j;
            uint8_t c = 1;  // code of a zero weight: padding rows and k past K
            if (m < M && k < K) {
              const int8_t v = w[m * K + k];
              c = v > 0 ? 2 : (v < 0 ? 0 : 1);
            }
            byte = static_cast<uint8_t>(byte | (c << (2 * s)));
          }
          blk[r * 32 + j] = byte;
        }
      }
    }
  }
}

}  // namespace bitnet::kernels::detail
