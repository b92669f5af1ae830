// Dense float/int8 kernels: the LM head (and any dense F32/F16 matrix), and the float ops of the
// graph (RMSNorm, softmax, attention over an f32 KV cache).
//
// The LM head is the largest single read per decoded token on BitNet 2B-4T (128256 x 2560 tied
// embedding: 626 MB as f16, 1.3 GB as f32, 328 MB as int8), so it gets three forms:
//   gemm_f16  F16 rows used as stored (mmap, no f32 copy), f32 activations, f32 accumulation
//             (gemm_bf16: the same for BF16 rows).
//   gemm_i8   int8 rows quantised once at load (quantize_rows_i8) x int8 activations quantised per
//             token with KernelSet::quantize_i8; exact int32 accumulation.
//   gemm_f32  F32 rows.
// All three take a row range [r0, r1) (threads split the rows; any split is valid) and N >= 1
// tokens: every row is read from memory once per call whatever N is.
//
// Same conventions as kernels.h: every SIMD variant has a scalar twin; integer results are
// bit-identical across variants; float results differ only by summation order (and FMA
// contraction), bounded in the tests against a double reference. The active set follows
// kernels().isa, so BITNET_ISA and force_isa apply here too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace bitnet::kernels {

struct DenseKernelSet {
  Isa isa;
  const char* name;  // "dense_scalar", "dense_avx2", "dense_avx512", "dense_avx512vnni", ...

  // y[n*ldy + r] = sum_k W[r*ldw + k] * x[n*ldx + k]  for r in [r0, r1), n in [0, N).
  // f32 accumulation; W is f32 (gemm_f32) or IEEE binary16 bits (gemm_f16). Only y[n*ldy + r] for r
  // in [r0, r1) is written. No alignment or padding requirements.
  void (*gemm_f32)(const float* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                   int64_t ldx, int64_t N, float* y, int64_t ldy);
  void (*gemm_f16)(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                   int64_t ldx, int64_t N, float* y, int64_t ldy);

  // y[n*ldy + r] = (float(acc) * w_scale[r]) * (1.0f / x_scale[n]),
  //   acc = sum_k W[r*ldw + k] * x[n*ldx + k], exact int32 (any int8 values; K < 131072).
  // w_scale: from quantize_rows_i8 (w ~ q * w_scale). x_scale: what KernelSet::quantize_i8 returned
  // (x ~ q / x_scale); 0 (non-finite activations) gives NaN/inf logits, never a silent number.
  // Bit-identical across variants.
  void (*gemm_i8)(const int8_t* w, int64_t ldw, const float* w_scale, int64_t K, int64_t r0, int64_t r1,
                  const int8_t* x, int64_t ldx, const float* x_scale, int64_t N, float* y, int64_t ldy);

  // sum_i a[i] * b[i]
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  // y[i] += a * x[i]
  void (*axpy_f32)(float a, const float* x, float* y, int64_t n);

  // y[i] = w[i] * (x[i] * inv), inv = 1.0f / sqrtf(float(ss / n) + eps), ss = sum x[i]^2 in double
  // in a fixed order (16 partial sums, lane j taking i % 16 == j in increasing i, folded 8+8, 4+4,
  // 2+2, 1+1). Products of floats are exact in double, so the result is bit-identical across
  // variants and runs. x may alias y. n = 0: nothing.
  void (*rms_norm)(const float* x, const float* w, int64_t n, float eps, float* y);

  // In place: x[i] = exp(x[i] - max) / sum, the sum accumulated in double; exp is a polynomial
  // (relative error <= 2^-22 before the division). n = 0: nothing. Inputs with NaN give NaN.
  void (*softmax)(float* x, int64_t n);

  // Attention over an f32 KV cache for one query head. Position j's key is k + j*ldk (hd floats),
  // its value v + j*ldv.
  //   attn_scores: s[j] = scale * (q . K_j)           for j in [0, n_pos)
  //   attn_values: out[i] += sum_j p[j] * V_j[i]       for i in [0, hd), positions in order (so
  //                calls over consecutive blocks of positions sum exactly like one call)
  void (*attn_scores)(const float* q, const float* k, int64_t ldk, int64_t n_pos, int64_t hd, float scale,
                      float* s);
  void (*attn_values)(const float* p, const float* v, int64_t ldv, int64_t n_pos, int64_t hd, float* out);

  // As gemm_f16 with bfloat16 rows (the upper half of an f32; exact widening).
  void (*gemm_bf16)(const uint16_t* w, int64_t ldw, int64_t K, int64_t r0, int64_t r1, const float* x,
                    int64_t ldx, int64_t N, float* y, int64_t ldy);

  // sum of the n bytes at p as unsigned integers (any n, any alignment). Its job is the memory
  // bandwidth probe of `bitnet bench`: it reads as wide as the ISA can, because on some cores
  // (Sapphire Rapids) 16-byte loads reach only ~75% of what 64-byte loads get from DRAM.
  uint64_t (*byte_sum)(const uint8_t* p, size_t n);

  // out[i] = IEEE binary16 h[i] widened to f32 (exact; every non-NaN input gives the same bits in
  // every variant, NaN stays NaN). The f16 KV cache is read through this.
  void (*f16_to_f32)(const uint16_t* h, int64_t n, float* out);

  // out[i] = float(q_i) * scale for i in [0, n): one row of the quantised KV cache (graph/kv_cache.h)
  // with bits = 8, 4 or 3. Codes are stored with an offset so they are unsigned:
  //   8: int8 q_i as is;
  //   4: q_i + 8 in a nibble, two per byte, low nibble first;
  //   3: q_i + 4 in 3 bits, packed little-endian, 8 codes per 3 bytes (a last partial group of 8
  //      still takes 3 bytes).
  // Reads only the ceil(n * bits / 8) bytes of the row (3 bits: ceil(n / 8) * 3). One rounding per
  // element, so every variant gives the same bits.
  void (*kv_dequant)(const uint8_t* codes, int64_t n, int bits, float scale, float* out);
};

struct DenseKernelVariant {
  const char* name;  // "scalar", "avx2", "avx512bw", "avx512vnni", "neon", "neondot"
  Isa isa;
  bool supported;
  const DenseKernelSet* set;
};
const std::vector<DenseKernelVariant>& dense_kernel_variants();

// The set for kernels().isa (BITNET_ISA / force_isa), or the best one below it.
const DenseKernelSet& dense_kernels();
// The set for one ISA (the most capable supported variant of it), or nullptr.
const DenseKernelSet* dense_kernels_for(Isa isa);

// Load-time int8 quantisation of weight rows (for gemm_i8): per row, scale = max|w| / 127 and
// q = clamp(round_half_even(w / scale), -127, 127); an all-zero row gets scale 0 and q = 0.
// Row r of the source is w + r*ldw; of the output q + r*ldq. Returns false if any weight is NaN or
// infinite (that row gets q = 0 and scale NaN, so its logits are NaN, never a plausible number).
bool quantize_rows_i8(const float* w, int64_t ldw, int64_t M, int64_t K, int8_t* q, int64_t ldq, float* scale);
// The same from IEEE binary16 rows (no f32 copy of the matrix is made).
bool quantize_rows_i8_f16(const uint16_t* w, int64_t ldw, int64_t M, int64_t K, int8_t* q, int64_t ldq,
                          float* scale);

}  // namespace bitnet::kernels
