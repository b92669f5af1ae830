// Internal: the packed layout of the AMX ternary GEMM and its entry points. Same rules as
// kernel_registry.h (constants and declarations only; ISA translation units include it).
//
// Layout "P16x64" (2 bits per weight, ISA-neutral bytes):
//   * Rows are grouped in panels of 16 (M padded with zero rows), K in blocks of 64 (padded with
//     zero weights). Panel p, block b is 256 contiguous bytes at (p * KB + b) * 256, KB = ceil(K/64).
//   * Those 256 bytes are four 64-byte vectors v = 0..3. Bits 2s..2s+1 of byte j of vector v hold
//     the code (w + 1, in 0..2) of the weight at row 16p + j/4, column 64b + 4r + j%4, where
//     r = 4s + v.
//   * So "shift vector v right by 2s, mask each byte to 2 bits, subtract 1" yields row r of an
//     AMX B tile in its VNNI order: B[r][4n + i] = W[16p + n][64b + 4r + i]. TDPBSSD with 16 tokens
//     x 64 activations as the A tile then gives C[token][n] = the panel's 16 dot products, exact.
#pragma once

#include "kernels.h"

namespace bitnet::kernels::detail {

constexpr int64_t kAmxPanelRows = 16;
constexpr int64_t kAmxBlockK = 64;
constexpr int64_t kAmxBlockBytes = 256;

size_t amx_packed_bytes(int64_t M, int64_t K);
void amx_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);

// Twin on the same layout, plain C++: runs everywhere, so the layout is tested without AMX.
extern const TernaryMatmul kAmxScalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const TernaryMatmul kAmxInt8;  // call only when cpu_info().amx_int8
#endif

}  // namespace bitnet::kernels::detail
