// Variant list and selection for the sparse / int4 kernels. The active set follows kernels().isa,
// so BITNET_ISA and force_isa select these too; an ISA without a sparse set falls back to the next
// lower one that has one.
#include <array>

#include "kernel_registry.h"
#include "sparse_registry.h"

namespace bitnet::kernels {
namespace {

SparseKernelSet make_set(Isa isa, const TernaryRowSubset& rows, const TernaryColSparse& cols,
                         const TernaryInt4Matmul& mm4, float (*q4)(const float*, int64_t, int8_t*),
                         const char* q4_name) {
  SparseKernelSet s{isa, rows, cols, mm4, q4};
  s.quantize_i4_name = q4_name;
  return s;
}

std::vector<SparseKernelVariant> build_variants() {
  using namespace detail;
  const CpuInfo& cpu = cpu_info();
  std::vector<SparseKernelVariant> v;
  static const SparseKernelSet scalar =
      make_set(Isa::Scalar, kRowsScalar, kColsScalar, kMatI4Scalar, quantize_i4_scalar, "q4_scalar");
  v.push_back({"scalar", Isa::Scalar, true, &scalar});
#if defined(BITNET_KERNELS_X86)
  static const SparseKernelSet avx2 =
      make_set(Isa::Avx2, kRowsAvx2, kColsAvx2, kMatI4Avx2, quantize_i4_avx2, "q4_avx2");
  static const SparseKernelSet avx512bw =
      make_set(Isa::Avx512, kRowsAvx512Bw, kColsAvx512Bw, kMatI4Avx512Bw, quantize_i4_avx512, "q4_avx512");
  static const SparseKernelSet avx512vnni = make_set(Isa::Avx512, kRowsAvx512Vnni, kColsAvx512Vnni,
                                                     kMatI4Avx512Vnni, quantize_i4_avx512, "q4_avx512");
  const bool has512 = cpu.best == Isa::Avx512;
  v.push_back({"avx2", Isa::Avx2, cpu.best == Isa::Avx2 || has512, &avx2});
  v.push_back({"avx512bw", Isa::Avx512, has512, &avx512bw});
  v.push_back({"avx512vnni", Isa::Avx512, has512 && cpu.avx512vnni, &avx512vnni});
#elif defined(BITNET_KERNELS_ARM)
  // Both share the quantizer; neondot differs in rows / int4 (sdot), cols is the same smlal kernel.
  static const SparseKernelSet neon =
      make_set(Isa::Neon, kRowsNeon, kColsNeon, kMatI4Neon, quantize_i4_neon, "q4_neon");
  static const SparseKernelSet neondot =
      make_set(Isa::Neon, kRowsNeonDot, kColsNeonDot, kMatI4NeonDot, quantize_i4_neon, "q4_neon");
  v.push_back({"neon", Isa::Neon, cpu.neon, &neon});
  v.push_back({"neondot", Isa::Neon, cpu.neon && cpu.neon_dotprod, &neondot});
#endif
  (void)cpu;
  return v;
}

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

const std::vector<SparseKernelVariant>& sparse_kernel_variants() {
  static const std::vector<SparseKernelVariant> variants = build_variants();
  return variants;
}

const SparseKernelSet* sparse_kernels_for(Isa isa) {
  // Within one ISA the later (more capable) supported variant wins, as in kernels_for.
  const SparseKernelSet* found = nullptr;
  for (const SparseKernelVariant& v : sparse_kernel_variants()) {
    if (v.isa == isa && v.supported) found = v.set;
  }
  return found;
}

const SparseKernelSet& sparse_kernels() {
  static const std::array<const SparseKernelSet*, 4> by_isa = [] {
    std::array<const SparseKernelSet*, 4> a{};
    for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
      const SparseKernelSet* best = sparse_kernels_for(isa);
      // No set for this ISA: the most capable supported one of lower rank on the same architecture.
      if (!best) {
        for (const SparseKernelVariant& v : sparse_kernel_variants())
          if (v.supported && rank(v.isa) < rank(isa) && (!best || rank(v.isa) >= rank(best->isa))) best = v.set;
      }
      a[static_cast<size_t>(isa)] = best;
    }
    return a;
  }();
  const SparseKernelSet* s = by_isa[static_cast<size_t>(kernels().isa)];
  return s ? *s : *sparse_kernel_variants()[0].set;
}

}  // namespace bitnet::kernels
