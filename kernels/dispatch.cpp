// Run-time kernel selection: the best ISA this CPU and OS support, lowered by BITNET_ISA or
// force_isa. The choice is made once, on first use, and logged at debug level.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernel_registry.h"
#include "kernels.h"
#include "lut.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::kernels {
namespace {

KernelSet make_set(Isa isa, const TernaryMatmul& mm, float (*quant)(const float*, int64_t, int8_t*),
                   const char* quant_name) {
  KernelSet s{isa, mm, quant};
  s.quantize_name = quant_name;
  return s;
}

std::vector<KernelVariant> build_variants() {
  using namespace detail;
  const CpuInfo& cpu = cpu_info();
  std::vector<KernelVariant> v;
  // The sets live for the whole process (function-local statics are built on first use, so static
  // initialisation order across translation units cannot bite).
  static const KernelSet scalar = make_set(Isa::Scalar, kMadScalar, quantize_i8_scalar, "quant_scalar");
  v.push_back({"scalar", Isa::Scalar, true, &scalar});
#if defined(BITNET_KERNELS_X86)
  static const KernelSet avx2 = make_set(Isa::Avx2, kMadAvx2, quantize_i8_avx2, "quant_avx2");
  static const KernelSet avxvnni = make_set(Isa::Avx2, kMadAvxVnni, quantize_i8_avx2, "quant_avx2");
  static const KernelSet avx512bw = make_set(Isa::Avx512, kMadAvx512Bw, quantize_i8_avx512, "quant_avx512");
  static const KernelSet avx512vnni =
      make_set(Isa::Avx512, kMadAvx512Vnni, quantize_i8_avx512, "quant_avx512");
  const bool has512 = cpu.best == Isa::Avx512;
  const bool has256 = cpu.best == Isa::Avx2 || has512;
  v.push_back({"avx2", Isa::Avx2, has256, &avx2});
  // AVX-VNNI (Alder Lake and later, Zen 5): the best 256-bit kernel, so `avx2` picks it where present.
  v.push_back({"avxvnni", Isa::Avx2, has256 && cpu.avx_vnni, &avxvnni});
  v.push_back({"avx512bw", Isa::Avx512, has512, &avx512bw});
  v.push_back({"avx512vnni", Isa::Avx512, has512 && cpu.avx512vnni, &avx512vnni});
#elif defined(BITNET_KERNELS_ARM)
  static const KernelSet neon = make_set(Isa::Neon, kMadNeon, quantize_i8_neon, "quant_neon");
  static const KernelSet neondot = make_set(Isa::Neon, kMadNeonDot, quantize_i8_neon, "quant_neon");
  v.push_back({"neon", Isa::Neon, cpu.neon, &neon});
  v.push_back({"neondot", Isa::Neon, cpu.neon && cpu.neon_dotprod, &neondot});
#endif
  (void)cpu;
  return v;
}

// The initial choice: best supported, or lower if BITNET_ISA asks for it.
const KernelSet* initial_set() {
  const Isa best = cpu_info().best;
  const KernelSet* chosen = kernels_for(best);
  if (const char* env = std::getenv("BITNET_ISA"); env && *env) {
    Isa want;
    if (!parse_isa(env, &want)) {
      log_warn("BITNET_ISA={} is not one of scalar, avx2, avx512, neon; using {}", env, isa_name(best));
    } else if (const KernelSet* s = kernels_for(want)) {
      chosen = s;
    } else {
      log_warn("BITNET_ISA={}: this CPU/OS or build does not support it; using {}", env, isa_name(best));
    }
  }
  if (lut_requested()) {  // BITNET_KERNEL=lut: the lookup-table matmul of the same ISA (lut.h)
    if (const KernelSet* lut = lut_kernel_set(chosen->isa)) {
      chosen = lut;
    } else {
      log_warn("BITNET_KERNEL=lut: no LUT kernel for {}; using {}", isa_name(chosen->isa), chosen->matmul.name);
    }
  }
  log_debug("kernels: isa={} matmul={} quantize={}", isa_name(chosen->isa), chosen->matmul.name,
            chosen->quantize_name);
  return chosen;
}

std::atomic<const KernelSet*> g_forced{nullptr};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::Scalar: return "scalar";
    case Isa::Avx2: return "avx2";
    case Isa::Avx512: return "avx512";
    case Isa::Neon: return "neon";
  }
  return "unknown";
}

bool parse_isa(const char* name, Isa* out) {
  if (!name) return false;
  static const struct {
    const char* name;
    Isa isa;
  } table[] = {{"scalar", Isa::Scalar}, {"avx2", Isa::Avx2}, {"avx512", Isa::Avx512}, {"neon", Isa::Neon}};
  for (const auto& e : table) {
    if (std::strcmp(name, e.name) == 0) {
      if (out) *out = e.isa;
      return true;
    }
  }
  return false;
}

const std::vector<KernelVariant>& kernel_variants() {
  static const std::vector<KernelVariant> variants = build_variants();
  return variants;
}

const KernelSet* kernels_for(Isa isa) {
  // Within one ISA the later (more capable) supported variant wins, e.g. VNNI over BW.
  const KernelSet* found = nullptr;
  for (const KernelVariant& v : kernel_variants()) {
    if (v.isa == isa && v.supported) found = v.set;
  }
  return found;
}

const KernelSet& kernels() {
  if (const KernelSet* f = g_forced.load(std::memory_order_acquire)) return *f;
  static const KernelSet* const chosen = initial_set();
  return *chosen;
}

void force_isa(Isa isa) {
  const KernelSet* s = kernels_for(isa);
  if (s && lut_requested()) {
    if (const KernelSet* lut = lut_kernel_set(isa)) s = lut;
  }
  if (!s) fail("ISA '{}' is not supported by this CPU/OS or not compiled into this build", isa_name(isa));
  log_debug("kernels: forced isa={} matmul={}", isa_name(isa), s->matmul.name);
  g_forced.store(s, std::memory_order_release);
}

}  // namespace bitnet::kernels
