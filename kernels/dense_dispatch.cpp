// Variant list and selection for the dense kernels. The active set follows kernels().isa (so
// BITNET_ISA and force_isa select these too); within one ISA the most capable supported variant
// wins, as in kernels_for.
#include <array>

#include "dense_registry.h"
#include "kernel_registry.h"

namespace bitnet::kernels {
namespace {

#define BITNET_DENSE_SET(isa_, name_, g, i8, o)                                                      \
  DenseKernelSet {                                                                                   \
    isa_, name_, detail::gemm_f32_##g, detail::gemm_f16_##g, detail::gemm_i8_##i8, detail::dot_f32_##o, \
        detail::axpy_f32_##o, detail::rms_norm_##o, detail::softmax_##o, detail::attn_scores_##o,    \
        detail::attn_values_##o, detail::gemm_bf16_##g, detail::byte_sum_##o, detail::f16_to_f32_##o, \
        detail::kv_dequant_##o \
  }

std::vector<DenseKernelVariant> build_variants() {
  const CpuInfo& cpu = cpu_info();
  std::vector<DenseKernelVariant> v;
  static const DenseKernelSet scalar = BITNET_DENSE_SET(Isa::Scalar, "dense_scalar", scalar, scalar, scalar);
  v.push_back({"scalar", Isa::Scalar, true, &scalar});
#if defined(BITNET_KERNELS_X86)
  static const DenseKernelSet avx2 = BITNET_DENSE_SET(Isa::Avx2, "dense_avx2", avx2, avx2, avx2);
  static const DenseKernelSet avxvnni = BITNET_DENSE_SET(Isa::Avx2, "dense_avxvnni", avx2, avxvnni, avx2);
  static const DenseKernelSet avx512bw = BITNET_DENSE_SET(Isa::Avx512, "dense_avx512", avx512, avx512, avx512);
  static const DenseKernelSet avx512vnni =
      BITNET_DENSE_SET(Isa::Avx512, "dense_avx512vnni", avx512, avx512vnni, avx512);
  const bool has512 = cpu.best == Isa::Avx512;
  const bool has256 = cpu.best == Isa::Avx2 || has512;
  v.push_back({"avx2", Isa::Avx2, has256, &avx2});
  v.push_back({"avxvnni", Isa::Avx2, has256 && cpu.avx_vnni, &avxvnni});  // int8 GEMM on VEX vpdpbusd
  v.push_back({"avx512bw", Isa::Avx512, has512, &avx512bw});
  v.push_back({"avx512vnni", Isa::Avx512, has512 && cpu.avx512vnni, &avx512vnni});
#elif defined(BITNET_KERNELS_ARM)
  static const DenseKernelSet neon = BITNET_DENSE_SET(Isa::Neon, "dense_neon", neon, neon, neon);
  static const DenseKernelSet neondot = BITNET_DENSE_SET(Isa::Neon, "dense_neondot", neon, neondot, neon);
  v.push_back({"neon", Isa::Neon, cpu.neon, &neon});
  v.push_back({"neondot", Isa::Neon, cpu.neon && cpu.neon_dotprod, &neondot});
#endif
  (void)cpu;
  return v;
}

#undef BITNET_DENSE_SET

int rank(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return 0;
    case Isa::Avx2: return 1;
    case Isa::Avx512: return 2;
    case Isa::Neon: return 1;
  }
  return 0;
}

}  // namespace

const std::vector<DenseKernelVariant>& dense_kernel_variants() {
  static const std::vector<DenseKernelVariant> variants = build_variants();
  return variants;
}

const DenseKernelSet* dense_kernels_for(Isa isa) {
  const DenseKernelSet* found = nullptr;
  for (const DenseKernelVariant& v : dense_kernel_variants()) {
    if (v.isa == isa && v.supported) found = v.set;
  }
  return found;
}

const DenseKernelSet& dense_kernels() {
  static const std::array<const DenseKernelSet*, 4> by_isa = [] {
    std::array<const DenseKernelSet*, 4> a{};
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
      const DenseKernelSet* best = dense_kernels_for(isa);
      // No set for this ISA: the most capable supported one of lower rank.
      if (!best) {
        for (const DenseKernelVariant& v : dense_kernel_variants())
          if (v.supported && rank(v.isa) < rank(isa) && (!best || rank(v.isa) >= rank(best->isa))) best = v.set;
      }
      a[static_cast<size_t>(isa)] = best;
    }
    return a;
  }();
  const DenseKernelSet* s = by_isa[static_cast<size_t>(kernels().isa)];
  return s ? *s : *dense_kernel_variants()[0].set;
}

}  // namespace bitnet::kernels
