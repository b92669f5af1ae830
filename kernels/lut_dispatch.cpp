// Variant list and selection for the LUT ternary matmul kernels (lut.h).
#include <array>
#include <cstdlib>
#include <cstring>

#include "lut.h"
#include "ternary_lut/lut16_registry.h"
#include "ternary_lut/lut_registry.h"

namespace bitnet::kernels {
namespace {

std::vector<LutVariant> build_variants() {
  using namespace detail;
  const CpuInfo& cpu = cpu_info();
  std::vector<LutVariant> v;
  v.push_back({"scalar", Isa::Scalar, true, &kLutScalar, &kLutScalar});
  // The L32x4 twin, listed so that it is tested too; lut_matmul_for(Scalar) keeps "scalar".
  v.push_back({"scalar16", Isa::Scalar, true, &kLut16Scalar, &kLut16Scalar});
#if defined(__x86_64__) || defined(_M_X64)
  // Support as in kernel_variants(): AVX2 wherever dispatch picks avx2 or avx512 as best; vpermw
  // is AVX-512BW, which every CPU we dispatch to at Isa::Avx512 has.
  const bool has512 = cpu.best == Isa::Avx512;
  v.push_back({"avx2", Isa::Avx2, cpu.best == Isa::Avx2 || has512, &kLut16Avx2, &kLut16Scalar});
  v.push_back({"avx512", Isa::Avx512, has512, &kLutAvx512, &kLutScalar});
#elif defined(__aarch64__)
  v.push_back({"neon", Isa::Neon, cpu.neon, &kLut16Neon, &kLut16Scalar});
#endif
  (void)cpu;
  return v;
}

}  // namespace

const std::vector<LutVariant>& lut_variants() {
  static const std::vector<LutVariant> variants = build_variants();
  return variants;
}

const TernaryMatmul* lut_matmul_for(Isa isa) {
  for (const LutVariant& v : lut_variants())
    if (v.isa == isa && v.supported) return v.matmul;
  return nullptr;
}

const KernelSet* lut_kernel_set(Isa isa) {
  static const std::array<KernelSet, 4> sets = [] {
    std::array<KernelSet, 4> a{};
    for (Isa i : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
      const KernelSet* base = kernels_for(i);
      const TernaryMatmul* mm = lut_matmul_for(i);
      if (base && mm) {
        a[static_cast<size_t>(i)] = *base;
        a[static_cast<size_t>(i)].matmul = *mm;
      }
    }
    return a;
  }();
  const KernelSet& s = sets[static_cast<size_t>(isa)];
  return s.matmul.matmul ? &s : nullptr;
}

bool lut_requested() {
  static const bool requested = [] {
    const char* env = std::getenv("BITNET_KERNEL");
    return env && std::strcmp(env, "lut") == 0;
  }();
  return requested;
}

}  // namespace bitnet::kernels
