// AVX-512 VNNI row-subset, column-sparse and int4 kernels (vpdpbusd).
#define BITNET_SPARSE_VNNI 1
#include "ternary_sparse_avx512.inc"

namespace bitnet::kernels::detail {
const TernaryRowSubset kRowsAvx512Vnni = {"rows_avx512vnni", row_layout_bytes, row_layout_pack, matmul_rows};
const TernaryColSparse kColsAvx512Vnni = {"cols_avx512vnni", 256, col_layout_bytes, col_pack, matvec_cols};
const TernaryInt4Matmul kMatI4Avx512Vnni = {"i4_avx512vnni", 4, row_layout_bytes, row_layout_pack, matmul_i4};
}  // namespace bitnet::kernels::detail
