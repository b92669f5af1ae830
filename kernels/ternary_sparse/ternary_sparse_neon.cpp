// NEON row-subset, column-sparse and int4 kernels for cores without the dot-product extension (e.g.
// Cortex-A53/A57/A72): smlal/smlal2 into int16, widened with sadalp. See ternary_sparse_neon.inc.
#include "ternary_sparse_neon.inc"

namespace bitnet::kernels::detail {
const TernaryRowSubset kRowsNeon = {"rows_neon", row_layout_bytes, row_layout_pack, matmul_rows};
const TernaryColSparse kColsNeon = {"cols_neon", 256, col_layout_bytes, col_pack, matvec_cols};
const TernaryInt4Matmul kMatI4Neon = {"i4_neon", 4, row_layout_bytes, row_layout_pack, matmul_i4};
}  // namespace bitnet::kernels::detail
