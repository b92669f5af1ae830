// AVX-512BW ternary matmul (CPUs with AVX-512 but without VNNI): vpmaddubsw + vpmaddwd.
#include "ternary_mad_avx512.inc"

namespace bitnet::kernels::detail {
const TernaryMatmul kMadAvx512Bw = {"mad_avx512bw", 16, packed_bytes, pack, matmul};
}  // namespace bitnet::kernels::detail
