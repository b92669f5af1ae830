// Internal: the packed layouts shared by the sparse/int4 kernel variants and the per-ISA entry points
// that sparse_dispatch.cpp assembles into SparseKernelSets. Same rules as kernel_registry.h: ISA
// translation units include nothing that could instantiate inline code shared with portable code.
//
// Row layout ("R256", used by rows and int4 of every variant): K is padded to Kp = a multiple of 256
// and each row is Kp/4 contiguous bytes (a multiple of 64, so rows start on cache lines). Byte j of
// the 64-byte chunk b of a row holds in bits 2s..2s+1 the code w+1 of k = 256b + 64s + j (s = 0..3);
// padding codes are 1 (weight 0). One 64/32/16-byte load therefore yields four code vectors that
// line up with contiguous activation loads.
//
// Column layout ("C256"): M is padded to Mp = a multiple of 256 and column k (the weights of input k
// for all M outputs) is Mp/4 contiguous bytes. Byte j of the 64-byte chunk c of a column holds in
// bits 2s..2s+1 the code of row m = 256c + 64s + perm[j]. perm is chosen per variant so that the
// SIMD interleave of 2 (AVX2: bytes) or 4 (AVX-512: bytes then words) columns within 128-bit lanes
// yields int16/int32 lanes in row order; scalar and NEON use the identity (NEON widens one column at
// a time with smlal/smlal2, which keep bytes in order; see ternary_sparse_neon.inc).
#pragma once

#include "sparse.h"

namespace bitnet::kernels::detail {

constexpr int64_t kSparseBlock = 256;

inline int64_t pad256(int64_t n) { return (n + kSparseBlock - 1) / kSparseBlock * kSparseBlock; }

size_t row_layout_bytes(int64_t M, int64_t K);
void row_layout_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);

size_t col_layout_bytes(int64_t M, int64_t K);
// perm: 64 entries, a permutation of 0..63 (see above).
void col_layout_pack(const int8_t* w, int64_t M, int64_t K, const uint8_t* perm, uint8_t* dst);

extern const TernaryRowSubset kRowsScalar;
extern const TernaryColSparse kColsScalar;
extern const TernaryInt4Matmul kMatI4Scalar;
float quantize_i4_scalar(const float* x, int64_t K, int8_t* q);

#if defined(__x86_64__) || defined(_M_X64)
extern const TernaryRowSubset kRowsAvx2, kRowsAvx512Bw, kRowsAvx512Vnni;
extern const TernaryColSparse kColsAvx2, kColsAvx512Bw, kColsAvx512Vnni;
extern const TernaryInt4Matmul kMatI4Avx2, kMatI4Avx512Bw, kMatI4Avx512Vnni;
float quantize_i4_avx2(const float* x, int64_t K, int8_t* q);
float quantize_i4_avx512(const float* x, int64_t K, int8_t* q);
#elif defined(__aarch64__)
extern const TernaryRowSubset kRowsNeon, kRowsNeonDot;
extern const TernaryColSparse kColsNeon, kColsNeonDot;
extern const TernaryInt4Matmul kMatI4Neon, kMatI4NeonDot;
float quantize_i4_neon(const float* x, int64_t K, int8_t* q);
#endif

}  // namespace bitnet::kernels::detail
