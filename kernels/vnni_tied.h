// vpdpbusd (acc += u8 x s8, four products per int32 lane) with its accumulator tied to the
// destination register. Through the _mm512_dpbusd_epi32 builtin GCC 12 copies the accumulator to a
// fresh register and back on every step of a loop (and, with 16-24 accumulators, spills them to the
// stack): the ternary GEMM ran at half speed and the sparse row kernel at half the GEMV's speed.
// Include only from translation units compiled with AVX-512 (VNNI) or AVX-VNNI; the ymm form below
// exists only with -mavxvnni, so no other translation unit defines it.
#pragma once

#include <immintrin.h>

namespace bitnet::kernels::detail {

#if defined(__AVX512F__)
inline __m512i dpbusd_tied(__m512i acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
  return acc;
}
#endif

#if defined(__AVXVNNI__)
// The VEX form on ymm (AVX-VNNI). The signed operand may come straight from memory.
inline __m256i dpbusd_avx_tied(__m256i acc, __m256i u8, __m256i s8) {
  asm("%{vex%} vpdpbusd %2, %1, %0" : "+x"(acc) : "x"(u8), "xm"(s8));
  return acc;
}
#endif

}  // namespace bitnet::kernels::detail
