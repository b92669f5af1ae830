// AMX-INT8 ternary GEMM (Intel Sapphire Rapids and later): the same contract as
// KernelSet::matmul (TernaryMatmul in kernels.h, exact int32 sums), with its own packed layout
// (ternary_amx/amx_layout.h). Only worth it with several tokens per call: it is the prefill kernel
// where the CPU and OS allow tiles, ahead of the LUT kernel.
#pragma once

#include <vector>

#include "kernels.h"

namespace bitnet::kernels {

struct AmxVariant {
  const char* name;  // "scalar" (the layout's twin, runs anywhere), "amx_int8"
  bool supported;    // this CPU and OS can run it
  const TernaryMatmul* matmul;
};
const std::vector<AmxVariant>& amx_variants();

// The ternary GEMM to use for multi-token calls at `isa`: the AMX kernel when isa is AVX-512, the
// CPU has AMX-INT8, the OS granted tile state and BITNET_AMX is not "0"; else the LUT kernel (lut.h)
// only if BITNET_PREFILL_LUT=1 (it does not beat the multiply-add kernels on the machines
// measured), otherwise nullptr: prefill then uses KernelSet::matmul.
const TernaryMatmul* prefill_matmul_for(Isa isa);

}  // namespace bitnet::kernels
