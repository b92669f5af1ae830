// Scalar row-subset and column-sparse ternary kernels: the references the SIMD variants must equal
// (exact int32 sums), and the fallback without SIMD. Layouts: sparse_registry.h (identity perm).
#include <cstdint>
#include <cstring>

#include "sparse_registry.h"

namespace bitnet::kernels::detail {
namespace {

inline int weight_at(const uint8_t* chunked, int64_t i) {
  // Index i inside an R256/C256 (identity perm) vector: chunk i/256, shift 2*((i%256)/64), byte i%64.
  return ((chunked[64 * (i >> 8) + (i & 63)] >> (2 * ((i >> 6) & 3))) & 3) - 1;
}

void matmul_rows(const uint8_t* packed, int64_t M, int64_t K, const int32_t* rows, int64_t nrows,
                 const int8_t* x, int64_t ldx, int64_t N, int32_t* y, int64_t ldy) {
  if (K <= 0 || N <= 0) return;
  const int64_t rb = pad256(K) / 4;
  for (int64_t i = 0; i < nrows; ++i) {
    const int64_t r = rows[i];
    if (r < 0 || r >= M) continue;
    const uint8_t* row = packed + r * rb;
    for (int64_t n = 0; n < N; ++n) {
      const int8_t* xn = x + n * ldx;
      int32_t acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += weight_at(row, k) * xn[k];
      y[n * ldy + r] = acc;
    }
  }
}

void col_pack(const int8_t* w, int64_t M, int64_t K, uint8_t* dst) {
  uint8_t perm[64];
  for (int j = 0; j < 64; ++j) perm[j] = static_cast<uint8_t>(j);
  col_layout_pack(w, M, K, perm, dst);
}

void matvec_cols(const uint8_t* packed, int64_t M, int64_t K, int64_t m0, int64_t m1, const int32_t* idx,
                 const int8_t* val, int64_t nnz, int32_t* y) {
  if (m0 < 0) m0 = 0;
  if (m1 > M) m1 = M;
  if (m0 >= m1) return;
  const int64_t cb = pad256(M) / 4;
  for (int64_t m = m0; m < m1; ++m) y[m] = 0;
  for (int64_t i = 0; i < nnz; ++i) {
    const int64_t k = idx[i];
    if (k < 0 || k >= K) continue;
    const int32_t v = val[i];
    const uint8_t* col = packed + k * cb;
    for (int64_t m = m0; m < m1; ++m) y[m] += weight_at(col, m) * v;
  }
}

}  // namespace

const TernaryRowSubset kRowsScalar = {"rows_scalar", row_layout_bytes, row_layout_pack, matmul_rows};
const TernaryColSparse kColsScalar = {"cols_scalar", 256, col_layout_bytes, col_pack, matvec_cols};

}  // namespace bitnet::kernels::detail
