// Variant list of the AMX ternary GEMM and the choice of the prefill kernel (amx.h).
#include <cstdlib>
#include <cstring>

#include "amx.h"
#include "lut.h"
#include "ternary_amx/amx_layout.h"

namespace bitnet::kernels {

const std::vector<AmxVariant>& amx_variants() {
  static const std::vector<AmxVariant> variants = [] {
    std::vector<AmxVariant> v;
    v.push_back({"scalar", true, &detail::kAmxScalar});
#if defined(__x86_64__) || defined(_M_X64)
    v.push_back({"amx_int8", cpu_info().amx_int8, &detail::kAmxInt8});
#endif
    return v;
  }();
  return variants;
}

const TernaryMatmul* prefill_matmul_for(Isa isa) {
  static const bool amx_allowed = [] {
    const char* env = std::getenv("BITNET_AMX");  // "0": use the LUT kernel even where AMX exists
    return !(env && std::strcmp(env, "0") == 0);
  }();
  static const bool lut_forced = [] {
    const char* env = std::getenv("BITNET_PREFILL_LUT");  // "1": the LUT kernel on every ISA
    return env && std::strcmp(env, "1") == 0;
  }();
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::Avx512 && amx_allowed && cpu_info().amx_int8) return &detail::kAmxInt8;
#endif
  // The LUT kernels are opt-in on every ISA. The AVX-512 one used to beat the multiply-add GEMM
  // (2.1x on Zen 4) until the VNNI GEMM stopped spilling its accumulators (vnni_tied.h): on Zen 5
  // the multiply-add GEMM is now 1.1-1.4x faster (bitnet_bench_lut N:8 and N:128), pp512 is as fast
  // or faster, and decode's copy of the weights serves prefill too (2B-4T: 460 MB less memory).
  // The AVX2 LUT kernel reached 0.7-0.9x of mad_avx2 on the Xeon host; NEON is unmeasured.
  if (lut_forced) return lut_matmul_for(isa);
  return nullptr;
}

}  // namespace bitnet::kernels
