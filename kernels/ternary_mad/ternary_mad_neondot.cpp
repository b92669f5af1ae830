// NEON ternary matmul with sdot (ARMv8.2 dotprod; compiled with +dotprod, run only if HWCAP says so).
#define BITNET_MAD_DOTPROD 1
#include "ternary_mad_neon.inc"

namespace bitnet::kernels::detail {
const TernaryMatmul kMadNeonDot = {"mad_neondot", 16, packed_bytes, pack, matmul};
}  // namespace bitnet::kernels::detail
