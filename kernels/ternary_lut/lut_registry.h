// Internal: the packed layout shared by the lookup-table (LUT) ternary matmul variants and their
// entry points. Same rules as kernel_registry.h: ISA translation units include nothing that could
// instantiate inline code shared with portable code (constants only here).
//
// Layout "L64x9" (T-MAC / TL2 style codes, no per-shape code generation):
//   * Three consecutive weights of a row (a "triplet", k = 3j..3j+2) form one code
//     c = 9(w0+1) + 3(w1+1) + (w2+1) in 0..26; 13 is the all-zero triplet (used for padding).
//   * Three consecutive triplets (9 weights) share one uint16 "word": bits 0-4, 5-9, 10-14 hold the
//     codes of triplets 3w, 3w+1, 3w+2; bit 15 is 0. 16 bits per 9 weights = 1.78 bits per weight.
//     AVX-512 vpermw reads only the low 5 bits of each 16-bit index, so a word is consumed by
//     "look up, shift right by 5" three times, with no masking.
//   * Rows are grouped in blocks of 64 (M padded with zero rows); K is padded to W = ceil(K/9)
//     words. Block b is W x 64 words, contiguous: word w of row 64b+l is at index
//     (b*W + w)*64 + l. So one 64-byte load gives the codes of 32 consecutive rows, and one block
//     (the unit a GEMV streams) is a single sequential read.
//
// Activations become tables: for each token and triplet, the 27 exact int16 sums
// T[c] = w0*x0 + w1*x1 + w2*x2 over all weight patterns c. |T[c]| <= 3*128 = 384, so an int16
// accumulator takes kChunkTriplets = 84 lookups (84*384 = 32256 <= 32767) before it is widened to
// int32: the result is the exact int32 sum, equal to the multiply-add kernels'.
//
// 27-entry int16 tables suit vpermw only; AVX2 and NEON, whose lookups are 16-entry byte shuffles,
// use the second layout, L32x4 (lut16_registry.h).
#pragma once

#include "kernels.h"

namespace bitnet::kernels::detail {

constexpr int64_t kLutBlockRows = 64;
constexpr int64_t kLutWordWeights = 9;
constexpr int64_t kLutWordTriplets = 3;
constexpr int64_t kLutChunkWords = 28;  // 84 triplets per int16 accumulation
constexpr int64_t kLutChunkTriplets = kLutChunkWords * kLutWordTriplets;
constexpr int kLutTableEntries = 32;    // 27 used, padded to one 64-byte vpermw table
constexpr uint16_t kLutZeroCode = 13;

size_t lut_packed_bytes(int64_t M, int64_t K);
void lut_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);

extern const TernaryMatmul kLutScalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const TernaryMatmul kLutAvx512;
#endif

}  // namespace bitnet::kernels::detail
