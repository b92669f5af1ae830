// NEON ternary matmul for cores without the dot-product extension (e.g. Cortex-A53/A57/A72).
#include "ternary_mad_neon.inc"

namespace bitnet::kernels::detail {
const TernaryMatmul kMadNeon = {"mad_neon", 16, packed_bytes, pack, matmul};
}  // namespace bitnet::kernels::detail
