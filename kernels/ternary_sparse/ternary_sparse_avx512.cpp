// AVX-512BW row-subset, column-sparse and int4 kernels (vpmaddubsw + vpmaddwd in place of vpdpbusd).
#include "ternary_sparse_avx512.inc"

namespace bitnet::kernels::detail {

const TernaryRowSubset kRowsAvx512Bw = {"rows_avx512bw", row_layout_bytes, row_layout_pack, matmul_rows};
const TernaryInt4Matmul kMatI4Avx512Bw = {"i4_avx512bw", 4, row_layout_bytes, row_layout_pack, matmul_i4};
const TernaryColSparse kColsAvx512Bw = {"cols_avx512bw", 256, col_layout_bytes, col_pack, matvec_cols};

}  // namespace bitnet::kernels::detail
