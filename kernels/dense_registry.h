// Internal: the per-ISA entry points that dense_dispatch.cpp assembles into DenseKernelSets. Same
// rules as kernel_registry.h: ISA translation units include nothing that could instantiate inline
// code shared with portable code (no half.h, no STL), keep helpers in anonymous namespaces and
// export only what is declared here.
#pragma once

#include "dense.h"

// Declares the gemm entry points of one variant (suffix sfx).
#define BITNET_DENSE_GEMM_DECL(sfx)                                                                        \
  void gemm_f32_##sfx(const float* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,      \
                      int64_t ldx, int64_t N, float* y, int64_t ldy);                                      \
  void gemm_f16_##sfx(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,   \
                      int64_t ldx, int64_t N, float* y, int64_t ldy);                                      \
  void gemm_bf16_##sfx(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,  \
                       int64_t ldx, int64_t N, float* y, int64_t ldy);

#define BITNET_DENSE_GEMM_I8_DECL(sfx)                                                                     \
  void gemm_i8_##sfx(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1, \
                     const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy);

// Declares the float ops of one variant.
#define BITNET_DENSE_OPS_DECL(sfx)                                                                          \
  float dot_f32_##sfx(const float* a, const float* b, int64_t n);                                           \
  void axpy_f32_##sfx(float a, const float* x, float* y, int64_t n);                                        \
  void rms_norm_##sfx(const float* x, const float* w, int64_t n, float eps, float* y);                      \
  void softmax_##sfx(float* x, int64_t n);                                                                  \
  void attn_scores_##sfx(const float* q, const float* k, int64_t ldk, int64_t n_pos, int64_t hd, float scale, \
                         float* s);                                                                         \
  void attn_values_##sfx(const float* p, const float* v, int64_t ldv, int64_t n_pos, int64_t hd, float* out); \
  uint64_t byte_sum_##sfx(const uint8_t* p, size_t n);                                                       \
  void f16_to_f32_##sfx(const uint16_t* h, int64_t n, float* out);                                          \
  void kv_dequant_##sfx(const uint8_t* codes, int64_t n, int bits, float scale, float* out);

namespace bitnet::kernels::detail {

// bfloat16 bits, as a distinct type so the gemm templates can overload their loads on it.
struct Bf16 {
  uint16_t bits;
};

BITNET_DENSE_GEMM_DECL(scalar)
BITNET_DENSE_GEMM_I8_DECL(scalar)
BITNET_DENSE_OPS_DECL(scalar)

#if defined(__x86_64__) || defined(_M_X64)
BITNET_DENSE_GEMM_DECL(avx2)
BITNET_DENSE_GEMM_I8_DECL(avx2)
BITNET_DENSE_OPS_DECL(avx2)
BITNET_DENSE_GEMM_DECL(avx512)
BITNET_DENSE_GEMM_I8_DECL(avx512)  // AVX-512BW: int8 widened to int16, vpmaddwd
BITNET_DENSE_OPS_DECL(avx512)
BITNET_DENSE_GEMM_I8_DECL(avx512vnni)  // vpdpbusd
BITNET_DENSE_GEMM_I8_DECL(avxvnni)  // VEX vpdpbusd on ymm (AVX-VNNI)
#elif defined(__aarch64__)
BITNET_DENSE_GEMM_DECL(neon)
BITNET_DENSE_GEMM_I8_DECL(neon)  // vmull_s8 + vpadalq_s16
BITNET_DENSE_OPS_DECL(neon)
BITNET_DENSE_GEMM_I8_DECL(neondot)  // sdot
#endif

// The softmax exponential shared by every variant (same constants, so all stay within the same
// error bound): exp(t) for t <= 0, t = n*ln2 + r, |r| <= ln2/2, Cephes' degree-6 polynomial.
// Results below kExpMin's exponential flush to 0.
constexpr float kExpMin = -87.33654f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;
constexpr float kLn2Lo = -2.12194440e-4f;
constexpr float kExpP0 = 1.9875691500e-4f, kExpP1 = 1.3981999507e-3f, kExpP2 = 8.3334519073e-3f,
                kExpP3 = 4.1665795894e-2f, kExpP4 = 1.6666665459e-1f, kExpP5 = 5.0000001201e-1f;

}  // namespace bitnet::kernels::detail
