// Packing into the row (R256) and column (C256) layouts described in sparse_registry.h. Portable
// code: every variant's pack calls these, so layouts cannot drift between a variant and its twin.
#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {
namespace {

uint8_t code_of(int8_t w) { return w > 0 ? 2 : (w < 0 ? 0 : 1); }

}  // namespace

size_t row_layout_bytes(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0) return 0;
  return static_cast<size_t>(M) * static_cast<size_t>(pad256(K) / 4);
}

void row_layout_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  if (M <= 0 || K <= 0) return;
  const int64_t rb = pad256(K) / 4;
  for (int64_t m = 0; m < M; ++m) {
    uint8_t* row = dst + m * rb;
    std::memset(row, 0x55, static_cast<size_t>(rb));  // code 1 everywhere = weight 0
    for (int64_t k = 0; k < K; ++k) {
      const int64_t b = k / 256, s = (k % 256) / 64, j = k % 64;
      uint8_t& byte = row[64 * b + j];
      byte = static_cast<uint8_t>((byte & ~(3u << (2 * s))) | (code_of(w[m * K + k]) << (2 * s)));
    }
  }
}

size_t col_layout_bytes(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0) return 0;
  return static_cast<size_t>(K) * static_cast<size_t>(pad256(M) / 4);
}

void col_layout_pack(const int8_t* w, int64_t M, int64_t K, const uint8_t* perm, uint8_t* dst) {
  if (M <= 0 || K <= 0) return;
  const int64_t cb = pad256(M) / 4;
  std::memset(dst, 0x55, static_cast<size_t>(K * cb));
  // inv[r] = byte index holding row r (of 64) of a 64-row slice.
  uint8_t inv[64];
  for (int j = 0; j < 64; ++j) inv[perm[j]] = static_cast<uint8_t>(j);
  // Blocks of 64 columns keep both the reads (row pieces) and the writes (64 columns) cache-resident.
  for (int64_t k0 = 0; k0 < K; k0 += 64) {
    const int64_t k1 = K - k0 < 64 ? K : k0 + 64;
    for (int64_t m = 0; m < M; ++m) {
      const int64_t c = m / 256, s = (m % 256) / 64, j = inv[m % 64];
      for (int64_t k = k0; k < k1; ++k) {
        uint8_t& byte = dst[k * cb + 64 * c + j];
        byte = static_cast<uint8_t>((byte & ~(3u << (2 * s))) | (code_of(w[m * K + k]) << (2 * s)));
      }
    }
  }
}


}  // namespace bitnet::kernels::detail

namespace bitnet::kernels {

int64_t sparse_gather(const int8_t* x, int64_t K, int32_t* idx, int8_t* val) {
  // Branch-free: every entry is written at the next free slot, which advances only past non-zeros
  // (n <= k, so the writes stay inside the K-entry buffers). About half the inputs are zero, in no
  // pattern a branch predictor can learn.
  int64_t n = 0;
  for (int64_t k = 0; k < K; ++k) {
    idx[n] = static_cast<int32_t>(k);
    val[n] = x[k];
    n += x[k] != 0;
  }
  return n;
}

}  // namespace bitnet::kernels
