// AVX-512 VNNI ternary matmul: one vpdpbusd per 64 weights x 1 token.
#define BITNET_MAD_VNNI 1
#include "ternary_mad_avx512.inc"

namespace bitnet::kernels::detail {
const TernaryMatmul kMadAvx512Vnni = {"mad_avx512vnni", 16, packed_bytes, pack, matmul};
}  // namespace bitnet::kernels::detail
