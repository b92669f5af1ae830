// `bitnet system-info`: what the kernel dispatcher sees and picks — CPU features, whether the OS
// saves the wide register state, every compiled-in kernel variant, and the active choice (which
// honours BITNET_ISA).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "command.h"
#include "amx.h"
#include "kernels.h"
#include "util/build_info.h"

namespace bitnet::cli {
namespace {

const char* yes(bool b) { return b ? "yes" : "no"; }

void print_system_info() {
  using namespace kernels;
  const CpuInfo& c = cpu_info();
  std::printf("build:        libbitnet %s (%s)\n", build_commit(),
#if defined(__x86_64__)
              "x86-64"
#elif defined(__aarch64__)
              "aarch64"
#else
              "generic"
#endif
  );
  std::printf("cpu:          %s\n", c.brand.empty() ? "(no brand string)" : c.brand.c_str());
  std::printf("threads:      %u hardware\n", std::thread::hardware_concurrency());
#if defined(__x86_64__)
  std::printf("os support:   AVX state (XCR0) %s, AVX-512 state %s, AMX tile state %s\n", yes(c.os_avx),
              yes(c.os_avx512), yes(c.os_amx));
  std::printf("features:     AVX %s, AVX2 %s, FMA %s, F16C %s, AVX-VNNI %s\n", yes(c.avx), yes(c.avx2),
              yes(c.fma), yes(c.f16c), yes(c.avx_vnni));
  std::printf("              AVX-512 F %s, DQ %s, BW %s, VL %s, VNNI %s, VBMI %s\n", yes(c.avx512f),
              yes(c.avx512dq), yes(c.avx512bw), yes(c.avx512vl), yes(c.avx512vnni), yes(c.avx512vbmi));
  std::printf("              AMX-TILE %s, AMX-INT8 %s\n", yes(c.amx_tile), yes(c.amx_int8));
#elif defined(__aarch64__)
  std::printf("features:     NEON %s, dotprod %s\n", yes(c.neon), yes(c.neon_dotprod));
#endif
  std::printf("best isa:     %s\n", isa_name(c.best));
  std::printf("variants:\n");
  for (const KernelVariant& v : kernel_variants()) {
    std::printf("  %-11s isa=%-6s matmul=%-16s quantize=%-13s %s\n", v.name, isa_name(v.isa),
                v.set->matmul.name, v.set->quantize_name, v.supported ? "supported" : "not supported");
  }
  const char* env = std::getenv("BITNET_ISA");
  const KernelSet& k = kernels::kernels();
  std::printf("active:       isa=%s matmul=%s quantize=%s%s%s\n", isa_name(k.isa), k.matmul.name,
              k.quantize_name, env && *env ? "  (BITNET_ISA=" : "", env && *env ? (std::string(env) + ")").c_str() : "");
  const TernaryMatmul* prefill = prefill_matmul_for(k.isa);
  std::printf("prefill:      %s\n", prefill ? prefill->name : "(the multiply-add matmul)");
}

void setup_system_info(CLI::App& app) {
  auto* sub = app.add_subcommand("system-info", "Show CPU features, OS support and the kernels chosen");
  add_verbosity_flags(*sub);
  sub->callback([] { print_system_info(); });
}

BITNET_REGISTER_COMMAND(system_info, setup_system_info)

}  // namespace
}  // namespace bitnet::cli
