// Kernels for BitNet a4.8 and for the exact sparsity every BitNet model has (issue 7):
//
//   rows  - ternary x int8 matmul over a list of output rows (up projection computed only where the
//           squared-ReLU gate is non-zero). Row-major packing, so skipped rows are skipped bytes.
//   cols  - ternary x sparse-int8 matvec: only the non-zero inputs are visited (down projection, whose
//           input is mostly zeros; o_proj after TopK-50%). Column-major packing, so a zero input's
//           weights are never read.
//   int4  - per-token absmean INT4 quantizer and a ternary x int4 matmul.
//
// Same conventions as kernels.h: weights arrive as plain int8 ternary values (M x K row-major) and
// each variant packs them into its own layout (pack/packed_bytes of one variant only work with the
// same variant's kernels); every SIMD variant has a scalar twin with identical integer results; the
// active set follows kernels().isa, so BITNET_ISA and force_isa apply here too.
//
// Inputs that break a precondition (row or column index out of range) are skipped, never read out of
// bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels.h"

namespace bitnet::kernels {

// Issue 7.1: y for a subset of rows. Also usable as a dense matmul (rows = 0..M-1).
struct TernaryRowSubset {
  const char* name;
  size_t (*packed_bytes)(int64_t M, int64_t K);
  // w: M x K values in {-1,0,+1}, row-major. dst: packed_bytes(M,K) bytes, 64-byte aligned.
  void (*pack)(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);
  // For i in [0, nrows) and n in [0, N): y[n*ldy + rows[i]] = sum_k W[rows[i],k] * x[n*ldx + k],
  // exact int32. Other y entries are not written. rows need not be sorted (sorted reads memory in
  // order); entries outside [0, M) are skipped. Prefill (N > 1): pass the union of the tokens' rows.
  // Threads: split the row list (rows + i0, count).
  void (*matmul_rows)(const uint8_t* packed, int64_t M, int64_t K, const int32_t* rows, int64_t nrows,
                      const int8_t* x, int64_t ldx, int64_t N, int32_t* y, int64_t ldy);
};

// Issue 7.1 / 7.3: y = W x with x given as its non-zero entries.
struct TernaryColSparse {
  const char* name;
  // m0 must be a multiple of row_tile, and m1 too unless m1 == M (threads split rows in row_tile
  // steps).
  int row_tile;
  size_t (*packed_bytes)(int64_t M, int64_t K);
  void (*pack)(const int8_t* w, int64_t M, int64_t K, uint8_t* dst);
  // y[m] = sum_i W[m, idx[i]] * val[i] for m in [m0, m1), exact int32 (y is overwritten there, other
  // entries untouched). idx: nnz column indices (sorted ascending reads memory in order; duplicates
  // add up; entries outside [0, K) are skipped). nnz may be 0 (y = 0). N=1 only: for prefill call it
  // per token (sparse_gather each row) or use the dense kernel.
  void (*matvec)(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int32_t* idx,
                 const int8_t* val, int64_t nnz, int32_t* y);
};

// Issue 7.2: ternary x int4 (values in [-8, 7], one per int8) matmul. Same contract as TernaryMatmul
// in kernels.h, and equal bit for bit to it on such inputs; activations outside [-8, 7] give
// unspecified (but memory-safe) results.
using TernaryInt4Matmul = TernaryMatmul;

struct SparseKernelSet {
  Isa isa;
  TernaryRowSubset rows;
  TernaryColSparse cols;
  TernaryInt4Matmul matmul_i4;
  // Per-token INT4 absmean (BitNet a4.8): beta = mean|x| summed in a fixed order (16 float partial
  // sums, lane i taking x[k] with k % 16 == i in increasing k, then folded 8+8, 4+4, 2+2, 1+1, then
  // divided by K), s = sqrt(7) / max(beta, 1e-5), q = clamp(round_half_even(x*s), -8, 7). Returns s
  // (dequantize with 1/s). Non-finite input: q = 0, returns 0. K = 0: returns 0.
  float (*quantize_i4)(const float* x, int64_t K, int8_t* q);
  const char* quantize_i4_name = "";
};

struct SparseKernelVariant {
  const char* name;  // "scalar", "avx2", "avx512bw", "avx512vnni", "neon", "neondot"
  Isa isa;
  bool supported;
  const SparseKernelSet* set;
};
const std::vector<SparseKernelVariant>& sparse_kernel_variants();

// The set for kernels().isa (BITNET_ISA / force_isa), or the best one below it.
const SparseKernelSet& sparse_kernels();
// The set for one ISA, or nullptr if not compiled in or not supported by this CPU.
const SparseKernelSet* sparse_kernels_for(Isa isa);

// Writes the indices and values of the non-zero entries of x[0..K) in increasing order; returns
// their count. idx and val need room for K entries.
int64_t sparse_gather(const int8_t* x, int64_t K, int32_t* idx, int8_t* val);

}  // namespace bitnet::kernels
