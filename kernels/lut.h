// Lookup-table (T-MAC / TL style) ternary matmul kernels: the same contract as
// KernelSet::matmul (TernaryMatmul in kernels.h, exact int32 sums, equal bit for bit to the
// multiply-add kernels), with their own packed layouts: "L64x9" for the scalar and AVX-512 variants
// (ternary_lut/lut_registry.h, 27-entry int16 tables for vpermw) and "L32x4" for AVX2 and NEON
// (ternary_lut/lut16_registry.h, 16-entry byte tables for vpshufb / tbl).
//
// They are not in kernel_variants() (kernels_for() would then prefer them); select them with
// BITNET_KERNEL=lut (the active KernelSet's matmul becomes the LUT kernel of its ISA, the quantizer
// stays) or use lut_variants() / lut_matmul_for() directly.
#pragma once

#include <vector>

#include "kernels.h"

namespace bitnet::kernels {

struct LutVariant {
  const char* name;  // "scalar", "avx512", "scalar16", "avx2", "neon"
  Isa isa;
  bool supported;    // this CPU and OS can run it
  const TernaryMatmul* matmul;
  const TernaryMatmul* twin;  // the scalar kernel on the same packed layout (bit-exact reference)
};
const std::vector<LutVariant>& lut_variants();

// The LUT matmul for one ISA (the first supported variant of that ISA, so Scalar stays the L64x9
// kernel), or nullptr if none is compiled in or this CPU cannot run it.
const TernaryMatmul* lut_matmul_for(Isa isa);

// kernels_for(isa) with its matmul replaced by lut_matmul_for(isa); nullptr if either is missing.
const KernelSet* lut_kernel_set(Isa isa);

// True if BITNET_KERNEL=lut is set (read once).
bool lut_requested();

}  // namespace bitnet::kernels
