// Every prefill GEMM variant (LUT and AMX, with their scalar twins) against the naive reference,
// the multiply-add scalar kernel and the twin on the variant's own layout (all must produce the same
// exact int32 sums, so the graph can swap them), over the same sweeps as ternary_mad_test: K tails
// (including every K mod 9 and mod 252, the LUT word and int16-chunk sizes, and mod 64, the AMX
// block), odd M, N = 1..9 and past the AMX token tiles, row ranges and extreme activations.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "kernel_test_util.h"
#include "amx.h"
#include "lut.h"

namespace bitnet::kernels::testing {
namespace {

struct PrefillCase {
  std::string name;  // "lut_scalar", "lut_scalar16", "lut_avx2", "lut_avx512", "amx_scalar", ...
  bool supported;
  const TernaryMatmul* matmul;
  const TernaryMatmul* twin;  // the scalar kernel on the same packed layout
};

const std::vector<PrefillCase>& prefill_cases() {
  static const std::vector<PrefillCase> cases = [] {
    std::vector<PrefillCase> v;
    for (const LutVariant& l : lut_variants())
      v.push_back({std::string("lut_") + l.name, l.supported, l.matmul, l.twin});
    for (const AmxVariant& a : amx_variants())
      v.push_back({std::string(a.name) == "scalar" ? "amx_scalar" : a.name, a.supported, a.matmul,
                   amx_variants()[0].matmul});
    return v;
  }();
  return cases;
}

std::vector<size_t> prefill_indices() {
  std::vector<size_t> v;
  for (size_t i = 0; i < prefill_cases().size(); ++i) v.push_back(i);
  return v;
}

std::string prefill_test_name(const ::testing::TestParamInfo<size_t>& info) {
  return prefill_cases()[info.param].name;
}

class PrefillMatmulTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    const PrefillCase& v = prefill_cases()[GetParam()];
    if (!v.supported) GTEST_SKIP() << "CPU/OS lacks " << v.name;
    mm_ = v.matmul;
    twin_ = v.twin;
  }
  const TernaryMatmul& mm() const { return *mm_; }
  static const TernaryMatmul& mad_scalar() { return kernel_variants()[0].set->matmul; }
  const TernaryMatmul& twin() const { return *twin_; }

  void check(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int8_t>& x,
             int64_t ldx, int64_t N) {
    const int64_t ldy = M + 3;
    const auto want = naive_matmul(w, M, K, x, ldx, N, ldy);
    const auto got = run_matmul(mm(), w, M, K, x, ldx, N, 0, M, ldy);
    const auto mad = run_matmul(mad_scalar(), w, M, K, x, ldx, N, 0, M, ldy);
    const auto twin_y = run_matmul(twin(), w, M, K, x, ldx, N, 0, M, ldy);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t m = 0; m < ldy; ++m) {
        const size_t i = static_cast<size_t>(n * ldy + m);
        const int32_t expect = m < M ? want[i] : kSentinel;
        ASSERT_EQ(got[i], expect) << mm().name << " M=" << M << " K=" << K << " N=" << N << " n=" << n
                                  << " m=" << m;
        ASSERT_EQ(mad[i], got[i]) << "mad_scalar M=" << M << " K=" << K << " N=" << N;
        ASSERT_EQ(twin_y[i], got[i]) << twin().name << " M=" << M << " K=" << K << " N=" << N;
      }
    }
  }

 private:
  const TernaryMatmul* mm_ = nullptr;
  const TernaryMatmul* twin_ = nullptr;
};

TEST_P(PrefillMatmulTest, KTailsSmallM) {
  std::mt19937 rng(1234);
  for (int64_t K = 1; K <= 300; ++K) {
    for (int64_t M : {1, 5}) {
      for (int64_t N : {1, 2, 7}) {
        const auto w = random_ternary(rng, static_cast<size_t>(M * K));
        const auto x = random_i8(rng, static_cast<size_t>(N * K));
        check(w, M, K, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(PrefillMatmulTest, ChunkBoundaries) {
  // K around multiples of 252 (one int16 accumulation chunk) and 9 (one word).
  std::mt19937 rng(77);
  for (int64_t K : {243, 251, 252, 253, 261, 503, 504, 505, 756, 1000}) {
    const int64_t M = 70, N = 5;
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    const auto x = random_i8(rng, static_cast<size_t>(N * K));
    check(w, M, K, x, K, N);
    if (HasFatalFailure()) return;
  }
}

TEST_P(PrefillMatmulTest, RealKOddMAllN) {
  std::mt19937 rng(99);
  for (int64_t K : {2560, 6912}) {
    for (int64_t M : {1, 3, 17, 33, 129}) {
      const auto w = random_ternary(rng, static_cast<size_t>(M * K));
      for (int64_t N = 1; N <= 9; ++N) {
        const auto x = random_i8(rng, static_cast<size_t>(N * K));
        check(w, M, K, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(PrefillMatmulTest, ManyTokensAndPaddedRows) {
  std::mt19937 rng(7);
  for (int64_t N : {13, 64, 97, 130}) {
    const int64_t M = 9, K = 333, ldx = K + 29;
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    const auto x = random_i8(rng, static_cast<size_t>(N * ldx));
    check(w, M, K, x, ldx, N);
    if (HasFatalFailure()) return;
  }
}

TEST_P(PrefillMatmulTest, RowRangesAtTileBoundaries) {
  std::mt19937 rng(42);
  const int64_t M = 200, K = 200, N = 5, ldy = M + 3;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  const auto want = naive_matmul(w, M, K, x, K, N, ldy);
  const int tile = mm().row_tile;
  ASSERT_GT(tile, 0);
  std::vector<int64_t> cuts = {0, 1, 3, 4, 17, 31, 32, 33, 95, 129, M - 1, M};
  for (int64_t c = tile; c < M; c += tile) cuts.push_back(c);
  for (int64_t m0 : cuts) {
    for (int64_t m1 : cuts) {
      if (m1 < m0) continue;
      const auto got = run_matmul(mm(), w, M, K, x, K, N, m0, m1, ldy);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < ldy; ++m) {
          const size_t i = static_cast<size_t>(n * ldy + m);
          const int32_t expect = (m >= m0 && m < m1) ? want[i] : kSentinel;
          ASSERT_EQ(got[i], expect) << "m0=" << m0 << " m1=" << m1 << " n=" << n << " m=" << m;
        }
    }
  }
}

TEST_P(PrefillMatmulTest, ExtremeActivationsCannotOverflow) {
  // All +1 / all -1 / alternating weights against all +127 / all -128 / alternating activations:
  // each lookup is then +-381 or +-384, so an int16 accumulator held one lookup past the chunk
  // limit (84 per chunk) would wrap.
  for (int64_t K : {252, 255, 2560, 6912, 16384}) {
    const int64_t M = 40, N = 3;
    for (int wv : {1, -1, 2}) {
      std::vector<int8_t> w(static_cast<size_t>(M * K));
      for (size_t i = 0; i < w.size(); ++i)
        w[i] = static_cast<int8_t>(wv == 2 ? ((i & 1) ? -1 : 1) : wv);
      for (int xv : {127, -128, 0}) {
        std::vector<int8_t> x(static_cast<size_t>(N * K));
        for (size_t i = 0; i < x.size(); ++i)
          x[i] = static_cast<int8_t>(xv == 0 ? ((i & 1) ? -128 : 127) : xv);
        check(w, M, K, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(PrefillMatmulTest, NonTernaryWeightsCountBySign) {
  std::mt19937 rng(3);
  const int64_t M = 37, K = 100, N = 2;
  auto w = random_i8(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  const auto got = run_matmul(mm(), w, M, K, x, K, N, 0, M, M);
  for (auto& v : w) v = static_cast<int8_t>(v > 0 ? 1 : (v < 0 ? -1 : 0));
  const auto want = naive_matmul(w, M, K, x, K, N, M);
  EXPECT_EQ(got, want);
}

TEST_P(PrefillMatmulTest, EmptyRangeWritesNothing) {
  std::mt19937 rng(5);
  const int64_t M = 8, K = 64, N = 2, ldy = M;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  for (auto [m0, m1] : {std::pair<int64_t, int64_t>{4, 4}, {8, 8}, {5, 2}}) {
    const auto got = run_matmul(mm(), w, M, K, x, K, N, m0, m1, ldy);
    for (int32_t v : got) ASSERT_EQ(v, kSentinel);
  }
}

TEST_P(PrefillMatmulTest, AmxBlockAndTokenTileEdges) {
  // K around multiples of 64 (AMX K block), N around the 16/32-token tiles and a chunk boundary
  // (768 KB / K tokens), M around the 16-row panels and panel pairs.
  std::mt19937 rng(2024);
  for (int64_t K : {63, 64, 65, 127, 128, 129, 200}) {
    for (int64_t M : {15, 16, 17, 31, 32, 33, 48, 50}) {
      for (int64_t N : {2, 15, 16, 17, 31, 32, 33}) {
        const auto w = random_ternary(rng, static_cast<size_t>(M * K));
        const auto x = random_i8(rng, static_cast<size_t>(N * K));
        check(w, M, K, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
  for (int64_t N : {6144 + 7}) {  // K = 128: a chunk is 6144 tokens
    const int64_t M = 40, K = 128;
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    const auto x = random_i8(rng, static_cast<size_t>(N * K));
    check(w, M, K, x, K, N);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, PrefillMatmulTest, ::testing::ValuesIn(prefill_indices()),
                         prefill_test_name);

TEST(PrefillMatmulSelect, AmxOnlyAtAvx512WhenTheCpuHasIt) {
  const TernaryMatmul* avx512 = prefill_matmul_for(Isa::Avx512);
  const bool amx = cpu_info().amx_int8 && !(std::getenv("BITNET_AMX") && std::string(std::getenv("BITNET_AMX")) == "0");
  const char* forced = std::getenv("BITNET_PREFILL_LUT");
  const bool lut_forced = forced && std::string(forced) == "1";
  if (amx) {
    ASSERT_NE(avx512, nullptr);
    EXPECT_STREQ(avx512->name, "amx_int8");
  } else {
    // Without AMX, prefill runs on the decode kernels unless the LUT kernel is asked for.
    EXPECT_EQ(avx512, lut_forced ? lut_matmul_for(Isa::Avx512) : nullptr);
  }
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Neon})
    EXPECT_EQ(prefill_matmul_for(isa), lut_forced ? lut_matmul_for(isa) : nullptr) << isa_name(isa);
}

TEST(PrefillMatmulSelect, KernelSetSwapsOnlyTheMatmul) {
  for (Isa isa : {Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon}) {
    const KernelSet* base = kernels_for(isa);
    const KernelSet* lut = lut_kernel_set(isa);
    const TernaryMatmul* mm = lut_matmul_for(isa);
    if (!base || !mm) {
      EXPECT_EQ(lut, nullptr) << isa_name(isa);
      continue;
    }
    ASSERT_NE(lut, nullptr) << isa_name(isa);
    EXPECT_EQ(lut->isa, isa);
    EXPECT_EQ(lut->matmul.matmul, mm->matmul);
    EXPECT_EQ(lut->quantize_i8, base->quantize_i8);
  }
  EXPECT_NE(lut_kernel_set(Isa::Scalar), nullptr);
}

}  // namespace
}  // namespace bitnet::kernels::testing
