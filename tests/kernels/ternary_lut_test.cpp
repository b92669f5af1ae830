// Every LUT ternary matmul variant against the naive reference, the multiply-add scalar kernel and
// the LUT scalar twin (all must produce the same exact int32 sums, so the graph can swap them), over
// the same sweeps as ternary_mad_test: K tails (including every K mod 9 and mod 252, the word and
// int16-chunk sizes), odd M, N = 1..9, row ranges and extreme activations.
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "kernel_test_util.h"
#include "lut.h"

namespace bitnet::kernels::testing {
namespace {

std::vector<size_t> lut_indices() {
  std::vector<size_t> v;
  for (size_t i = 0; i < lut_variants().size(); ++i) v.push_back(i);
  return v;
}

std::string lut_test_name(const ::testing::TestParamInfo<size_t>& info) {
  return lut_variants()[info.param].name;
}

class LutMatmulTest : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    const LutVariant& v = lut_variants()[GetParam()];
    if (!v.supported) GTEST_SKIP() << "CPU/OS lacks " << v.name;
    mm_ = v.matmul;
  }
  const TernaryMatmul& mm() const { return *mm_; }
  static const TernaryMatmul& mad_scalar() { return kernel_variants()[0].set->matmul; }
  static const TernaryMatmul& lut_scalar() { return *lut_variants()[0].matmul; }

  void check(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int8_t>& x,
             int64_t ldx, int64_t N) {
    const int64_t ldy = M + 3;
    const auto want = naive_matmul(w, M, K, x, ldx, N, ldy);
    const auto got = run_matmul(mm(), w, M, K, x, ldx, N, 0, M, ldy);
    const auto mad = run_matmul(mad_scalar(), w, M, K, x, ldx, N, 0, M, ldy);
    const auto twin = run_matmul(lut_scalar(), w, M, K, x, ldx, N, 0, M, ldy);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t m = 0; m < ldy; ++m) {
        const size_t i = static_cast<size_t>(n * ldy + m);
        const int32_t expect = m < M ? want[i] : kSentinel;
        ASSERT_EQ(got[i], expect) << mm().name << " M=" << M << " K=" << K << " N=" << N << " n=" << n
                                  << " m=" << m;
        ASSERT_EQ(mad[i], got[i]) << "mad_scalar M=" << M << " K=" << K << " N=" << N;
        ASSERT_EQ(twin[i], got[i]) << "lut_scalar M=" << M << " K=" << K << " N=" << N;
      }
    }
  }

 private:
  const TernaryMatmul* mm_ = nullptr;
};

TEST_P(LutMatmulTest, KTailsSmallM) {
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

TEST_P(LutMatmulTest, ChunkBoundaries) {
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

TEST_P(LutMatmulTest, RealKOddMAllN) {
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

TEST_P(LutMatmulTest, ManyTokensAndPaddedRows) {
  std::mt19937 rng(7);
  for (int64_t N : {13, 64, 97, 130}) {
    const int64_t M = 9, K = 333, ldx = K + 29;
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    const auto x = random_i8(rng, static_cast<size_t>(N * ldx));
    check(w, M, K, x, ldx, N);
    if (HasFatalFailure()) return;
  }
}

TEST_P(LutMatmulTest, RowRangesAtTileBoundaries) {
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

TEST_P(LutMatmulTest, ExtremeActivationsCannotOverflow) {
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

TEST_P(LutMatmulTest, NonTernaryWeightsCountBySign) {
  std::mt19937 rng(3);
  const int64_t M = 37, K = 100, N = 2;
  auto w = random_i8(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  const auto got = run_matmul(mm(), w, M, K, x, K, N, 0, M, M);
  for (auto& v : w) v = static_cast<int8_t>(v > 0 ? 1 : (v < 0 ? -1 : 0));
  const auto want = naive_matmul(w, M, K, x, K, N, M);
  EXPECT_EQ(got, want);
}

TEST_P(LutMatmulTest, EmptyRangeWritesNothing) {
  std::mt19937 rng(5);
  const int64_t M = 8, K = 64, N = 2, ldy = M;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  for (auto [m0, m1] : {std::pair<int64_t, int64_t>{4, 4}, {8, 8}, {5, 2}}) {
    const auto got = run_matmul(mm(), w, M, K, x, K, N, m0, m1, ldy);
    for (int32_t v : got) ASSERT_EQ(v, kSentinel);
  }
}

INSTANTIATE_TEST_SUITE_P(AllVariants, LutMatmulTest, ::testing::ValuesIn(lut_indices()), lut_test_name);

TEST(LutMatmulSelect, KernelSetSwapsOnlyTheMatmul) {
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
