// Internal: the second LUT layout, "L32x4", for ISAs whose table lookup is a 16-entry byte shuffle
// (AVX2 vpshufb per 128-bit lane, NEON tbl / vqtbl1q_u8). Same rules as kernel_registry.h:
// constants and entry points only.
//
// Layout "L32x4" (T-MAC style pair codes, no per-shape code generation):
//   * Two consecutive weights of a row (a "pair", k = 2p, 2p+1) form one code
//     c = 3(w0+1) + (w1+1) in 0..8; 4 is the all-zero pair (used for padding). 4 bits per code.
//   * Byte j of a row holds pairs 2j (low nibble) and 2j+1 (high nibble), i.e. weights 4j..4j+3:
//     2 bits per weight, the same density as the multiply-add layout.
//   * Rows are grouped in blocks of 32 (M padded with zero rows); K is padded to B = ceil(K/4) bytes
//     per row. Block b is B x 32 bytes, contiguous: byte j of row 32b+l is at (b*B + j)*32 + l, so
//     one 32-byte load (or two 16-byte loads) gives one nibble pair of 32 consecutive rows.
//
// Activations become tables: for each token and pair, the exact sums T[c] = w0*x0 + w1*x1 over the
// 9 codes (entries 9..15 are 0). T is in [-256, 256], which needs 10 bits, so a table is stored as
// two 16-byte tables, the low byte (unsigned) and the high byte (signed, -1..1) of the int16 T:
// 16 low bytes, then 16 high bytes per pair. A kernel looks up both with the same index vector and
// rebuilds T = low + 256 * high exactly: no int8 rounding or scales. Sums are kept per chunk of
// kLut16ChunkPairs = 126 pairs: the chunk's int16 sum (126 * 256 = 32256), the sum of its high
// bytes (|.| <= 126, int8) and of its low bytes (<= 126 * 255, uint16) cannot wrap; each chunk is
// then widened to int32, so the result is the exact int32 sum.
#pragma once

#include "kernels.h"

namespace bitnet::kernels::detail {

constexpr int64_t kLut16BlockRows = 32;
constexpr int64_t kLut16ByteWeights = 4;   // two pairs per byte
constexpr int64_t kLut16ChunkPairs = 126;  // int16 / int8 accumulation limit (see above)
constexpr int64_t kLut16ChunkBytes = kLut16ChunkPairs / 2;
constexpr int kLut16TableBytes = 32;       // 16 low bytes + 16 high bytes per pair
constexpr uint8_t kLut16ZeroCode = 4;

size_t lut16_packed_bytes(int64_t M, int64_t K);
void lut16_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);

extern const TernaryMatmul kLut16Scalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const TernaryMatmul kLut16Avx2;
#elif defined(__aarch64__)
extern const TernaryMatmul kLut16Neon;
#endif

}  // namespace bitnet::kernels::detail
