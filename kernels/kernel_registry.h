// Internal: the per-ISA entry points that dispatch.cpp assembles into KernelSets.
//
// The ISA translation units are compiled with their own -m flags. They must not define inline
// functions or templates that portable code could also instantiate (the linker would keep one copy,
// possibly the AVX-512 one), so they include no fmt/STL headers beyond <cstdint>/<cstring>, keep
// their helpers in anonymous namespaces, and export only the objects declared here.
#pragma once

#include "kernels.h"

namespace bitnet::kernels::detail {

extern const TernaryMatmul kMadScalar;

// The 256-bit multiply-add layout (slot_pack.cpp): groups of `rows` rows (the last padded with zero
// weights), blocks of 128 k; block b of group g is rows*32 bytes at (g*KB + b)*rows*32, row r owns
// bytes [32r, 32r+32), and byte j holds the codes (w+1) of k = 128b + 32s + j in bits 2s..2s+1.
size_t slot_packed_bytes(int64_t M, int64_t K, int64_t rows);
void slot_pack(const int8_t* w, int64_t M, int64_t K, int64_t rows, uint8_t* dst);
float quantize_i8_scalar(const float* x, int64_t K, int8_t* q);

#if defined(__x86_64__) || defined(_M_X64)
#define BITNET_KERNELS_X86 1
extern const TernaryMatmul kMadAvx2;
extern const TernaryMatmul kMadAvxVnni;
extern const TernaryMatmul kMadAvx512Bw;
extern const TernaryMatmul kMadAvx512Vnni;
float quantize_i8_avx2(const float* x, int64_t K, int8_t* q);
float quantize_i8_avx512(const float* x, int64_t K, int8_t* q);
#elif defined(__aarch64__)
#define BITNET_KERNELS_ARM 1
extern const TernaryMatmul kMadNeon;
extern const TernaryMatmul kMadNeonDot;
float quantize_i8_neon(const float* x, int64_t K, int8_t* q);
#endif

}  // namespace bitnet::kernels::detail
