// Packing into the P16x64 layout (amx_layout.h) and the layout's scalar twin. Portable code.
#include <cstdint>
#include <cstring>

#include "ternary_amx/amx_layout.h"

namespace bitnet::kernels::detail {
namespace {

int64_t blocks_of(int64_t K) { return (K + kAmxBlockK - 1) / kAmxBlockK; }
int64_t panels_of(int64_t M) { return (M + kAmxPanelRows - 1) / kAmxPanelRows; }

// Other values count by their sign, as in the multiply-add kernels.
int code_of(int8_t w) { return w > 0 ? 2 : (w < 0 ? 0 : 1); }

// Weight (row m, column k) read back from the packed bytes; 0 for padding.
int weight_at(const uint8_t* packed, int64_t KB, int64_t m, int64_t k) {
  const int64_t p = m / kAmxPanelRows, n = m % kAmxPanelRows;
  const int64_t b = k / kAmxBlockK, kk = k % kAmxBlockK;
  const int64_t r = kk / 4, i = kk % 4;
  const int64_t v = r % 4, s = r / 4;
  const uint8_t byte = packed[(p * KB + b) * kAmxBlockBytes + v * 64 + 4 * n + i];
  return ((byte >> (2 * s)) & 3) - 1;
}

void matmul_scalar(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
                   int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0 || K <= 0) return;
  const int64_t KB = blocks_of(K);
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t m = m0; m < m1; ++m) {
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += weight_at(packed, KB, m, k) * x[n * ldx + k];
      y[n * ldy + m] = acc;
    }
  }
}

}  // namespace

size_t amx_packed_bytes(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0) return 0;
  return static_cast<size_t>(panels_of(M) * blocks_of(K) * kAmxBlockBytes);
}

void amx_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  if (M <= 0 || K <= 0) return;
  const int64_t KB = blocks_of(K), P = panels_of(M);
  std::memset(dst, 0, amx_packed_bytes(M, K));
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t b = 0; b < KB; ++b) {
      uint8_t* block = dst + (p * KB + b) * kAmxBlockBytes;
      for (int64_t r = 0; r < 16; ++r) {
        const int64_t v = r % 4, s = r / 4;
        for (int64_t j = 0; j < 64; ++j) {
          const int64_t m = p * kAmxPanelRows + j / 4, k = b * kAmxBlockK + 4 * r + j % 4;
          const int code = m < M && k < K ? code_of(w[m * K + k]) : 1;
          block[v * 64 + j] = static_cast<uint8_t>(block[v * 64 + j] | (code << (2 * s)));
        }
      }
    }
  }
}

const TernaryMatmul kAmxScalar = {"amx_scalar", 2 * static_cast<int>(kAmxPanelRows), amx_packed_bytes,
                                  amx_pack, matmul_scalar};

}  // namespace bitnet::kernels::detail
