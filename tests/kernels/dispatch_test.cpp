// Run-time dispatch: names, the variant list, the BITNET_ISA override and force_isa.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "kernels.h"
#include "util/error.h"

namespace bitnet::kernels {
namespace {

TEST(Dispatch, IsaNamesRoundTrip) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    Isa back;
    ASSERT_TRUE(parse_isa(isa_name(isa), &back)) << isa_name(isa);
    EXPECT_EQ(back, isa);
  }
  Isa dummy;
  EXPECT_FALSE(parse_isa("avx1024", &dummy));
  EXPECT_FALSE(parse_isa("", &dummy));
  EXPECT_FALSE(parse_isa(nullptr, &dummy));
}

TEST(Dispatch, VariantListIsConsistent) {
  const auto& v = kernel_variants();
  ASSERT_FALSE(v.empty());
  EXPECT_STREQ(v[0].name, "scalar");
  EXPECT_TRUE(v[0].supported);
  for (const KernelVariant& kv : v) {
    ASSERT_NE(kv.set, nullptr) << kv.name;
    EXPECT_EQ(kv.set->isa, kv.isa) << kv.name;
    EXPECT_NE(kv.set->matmul.pack, nullptr);
    EXPECT_NE(kv.set->matmul.matmul, nullptr);
    EXPECT_NE(kv.set->quantize_i8, nullptr);
    EXPECT_GT(kv.set->matmul.row_tile, 0);
  }
  // The CPU's best ISA has a runnable set.
  EXPECT_NE(kernels_for(cpu_info().best), nullptr);
  EXPECT_NE(kernels_for(Isa::Scalar), nullptr);
}

TEST(Dispatch, ActiveSetHonoursBitnetIsa) {
  const KernelSet& active = kernels();
  const char* env = std::getenv("BITNET_ISA");
  Isa want;
  if (env && parse_isa(env, &want) && kernels_for(want)) {
    EXPECT_EQ(active.isa, want) << "BITNET_ISA=" << env;
  } else {
    EXPECT_EQ(active.isa, cpu_info().best);
  }
}

TEST(Dispatch, ForceIsa) {
  const Isa before = kernels().isa;
  force_isa(Isa::Scalar);
  EXPECT_EQ(kernels().isa, Isa::Scalar);
  EXPECT_STREQ(kernels().matmul.name, "mad_scalar");
  force_isa(before);
  EXPECT_EQ(kernels().isa, before);
  // An ISA of the other architecture is never available.
#if defined(__x86_64__)
  EXPECT_THROW(force_isa(Isa::Neon), Error);
#elif defined(__aarch64__)
  EXPECT_THROW(force_isa(Isa::Avx2), Error);
#endif
  EXPECT_EQ(kernels().isa, before);
}

TEST(Dispatch, CpuInfoMatchesArchitecture) {
  const CpuInfo& c = cpu_info();
#if defined(__aarch64__)
  EXPECT_TRUE(c.neon);
  EXPECT_EQ(c.best, Isa::Neon);
#elif defined(__x86_64__)
  EXPECT_FALSE(c.neon);
  if (c.best == Isa::Avx512) {
    EXPECT_TRUE(c.avx512bw && c.os_avx512);
  }
  if (c.best == Isa::Avx2) {
    EXPECT_TRUE(c.avx2 && c.os_avx);
  }
  if (c.avx2) {
    EXPECT_TRUE(c.os_avx);
  }
#endif
}

}  // namespace
}  // namespace bitnet::kernels
