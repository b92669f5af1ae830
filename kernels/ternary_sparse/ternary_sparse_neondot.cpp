// NEON row-subset, column-sparse and int4 kernels with sdot (ARMv8.2 dotprod; compiled with
// +dotprod, run only if HWCAP says so). rows and int4 use sdot; cols shares the smlal kernel of the
// plain NEON variant (see ternary_sparse_neon.inc).
#define BITNET_SPARSE_DOTPROD 1
#include "ternary_sparse_neon.inc"

namespace bitnet::kernels::detail {
const TernaryRowSubset kRowsNeonDot = {"rows_neondot", row_layout_bytes, row_layout_pack, matmul_rows};
const TernaryColSparse kColsNeonDot = {"cols_neondot", 256, col_layout_bytes, col_pack, matvec_cols};
const TernaryInt4Matmul kMatI4NeonDot = {"i4_neondot", 4, row_layout_bytes, row_layout_pack, matmul_i4};
}  // namespace bitnet::kernels::detail
