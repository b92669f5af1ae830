// vpdpbusd (acc += u8 x s8, four products per int32 lane) with its accumulator tied to the
// destination register. Through the _mm512_dpbusd_epi32 builtin GCC 12 copies the accumulator to a
// fresh register and back on every step of a loop (and, with 16-24 accumulators, spills them to the
// stack): the ternary GEMM ran at half speed and the sparse row kernel at half the GEMV's speed.
// Include only from translation units compiled with AVX-512 VNNI.
#pragma once

#include <immintrin.h>

namespace bitnet::kernels::detail {

inline __m512i dpbusd_tied(__m512i acc, __m512i u8, __m512i s8) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u8), "v"(s8));
  return acc;
}

}  // namespace bitnet::kernels::detail
