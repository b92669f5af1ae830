// Scalar ternary x int8 matmul: the reference every SIMD variant must match bit for bit (all
// variants compute the exact int32 sum, so "match" means equal integers), and the fallback for CPUs
// without SIMD support.
//
// Packed layout: each row is ceil(K/4) bytes; weight k sits in byte k/4 at bits 2*(k%4) as the code
// w+1 (0 = -1, 1 = 0, 2 = +1). Padding codes are 1 (zero weight).
#include <cstdint>
#include <cstring>

#include "kernel_registry.h"

namespace bitnet::kernels::detail {
namespace {

int64_t row_bytes(int64_t K) { return (K + 3) / 4; }

size_t packed_bytes(int64_t M, int64_t K) {
  if (M <= 0 || K <= 0) return 0;
  return static_cast<size_t>(M) * static_cast<size_t>(row_bytes(K));
}

uint8_t code_of(int8_t w) { return w > 0 ? 2 : (w < 0 ? 0 : 1); }

void pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  const int64_t rb = row_bytes(K);
  for (int64_t m = 0; m < M; ++m) {
    uint8_t* row = dst + m * rb;
    for (int64_t b = 0; b < rb; ++b) {
      uint8_t byte = 0;
      for (int j = 0; j < 4; ++j) {
        const int64_t k = 4 * b + j;
        const uint8_t c = k < K ? code_of(w[m * K + k]) : 1;
        byte = static_cast<uint8_t>(byte | (c << (2 * j)));
      }
      row[b] = byte;
    }
  }
}

constexpr int kChunk = 64;  // weights decoded at a time
constexpr int kTokens = 4;  // tokens sharing one decoded chunk

void matmul(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int8_t* x,
            int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1 || N <= 0) return;
  const int64_t rb = row_bytes(K);
  int8_t wd[kChunk];
  for (int64_t m = m0; m < m1; ++m) {
    const uint8_t* row = packed + m * rb;
    for (int64_t n0 = 0; n0 < N; n0 += kTokens) {
      const int nt = static_cast<int>(N - n0 < kTokens ? N - n0 : kTokens);
      int32_t acc[kTokens] = {0, 0, 0, 0};
      for (int64_t k0 = 0; k0 < K; k0 += kChunk) {
        const int len = static_cast<int>(K - k0 < kChunk ? K - k0 : kChunk);
        for (int i = 0; i < len; ++i) {
          const int64_t k = k0 + i;
          wd[i] = static_cast<int8_t>(((row[k >> 2] >> (2 * (k & 3))) & 3) - 1);
        }
        for (int t = 0; t < nt; ++t) {
          const int8_t* xr = x + (n0 + t) * ldx + k0;
          int32_t s = 0;
          for (int i = 0; i < len; ++i) s += wd[i] * xr[i];
          acc[t] += s;
        }
      }
      for (int t = 0; t < nt; ++t) y[(n0 + t) * ldy + m] = acc[t];
    }
  }
}

}  // namespace

const TernaryMatmul kMadScalar = {"mad_scalar", 16, packed_bytes, pack, matmul};

}  // namespace bitnet::kernels::detail
