// Every ternary matmul variant against the naive reference (and so against its scalar twin: all
// variants must produce the exact int32 sums) over K tails, odd M, N = 1..9, row ranges and
// extreme activations.
#include <gtest/gtest.h>

#include <random>

#include "kernel_test_util.h"

namespace bitnet::kernels::testing {
namespace {

class TernaryMatmulTest : public VariantTest {
 protected:
  // Full row range; compares against naive and against the scalar twin.
  void check(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int8_t>& x,
             int64_t ldx, int64_t N) {
    const int64_t ldy = M + 3;
    const auto want = naive_matmul(w, M, K, x, ldx, N, ldy);
    const auto got = run_matmul(set().matmul, w, M, K, x, ldx, N, 0, M, ldy);
    const auto twin = run_matmul(scalar().matmul, w, M, K, x, ldx, N, 0, M, ldy);
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t m = 0; m < ldy; ++m) {
        const size_t i = static_cast<size_t>(n * ldy + m);
        const int32_t expect = m < M ? want[i] : kSentinel;
        ASSERT_EQ(got[i], expect) << set().matmul.name << " M=" << M << " K=" << K << " N=" << N
                                  << " n=" << n << " m=" << m;
        ASSERT_EQ(twin[i], expect) << "scalar M=" << M << " K=" << K << " N=" << N << " n=" << n
                                   << " m=" << m;
      }
    }
  }
};

TEST_P(TernaryMatmulTest, KTailsSmallM) {
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

TEST_P(TernaryMatmulTest, RealKOddMAllN) {
  std::mt19937 rng(99);
  for (int64_t K : {2560, 6912}) {
    for (int64_t M : {1, 3, 17, 33}) {
      const auto w = random_ternary(rng, static_cast<size_t>(M * K));
      for (int64_t N = 1; N <= 9; ++N) {
        const auto x = random_i8(rng, static_cast<size_t>(N * K));
        check(w, M, K, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(TernaryMatmulTest, ManyTokensAndPaddedRows) {
  // More tokens than any token tile or chunk; x rows longer than K (ldx > K).
  std::mt19937 rng(7);
  for (int64_t N : {13, 64, 97, 130}) {
    const int64_t M = 9, K = 333, ldx = K + 29;
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    const auto x = random_i8(rng, static_cast<size_t>(N * ldx));
    check(w, M, K, x, ldx, N);
    if (HasFatalFailure()) return;
  }
}

TEST_P(TernaryMatmulTest, RowRangesAtTileBoundaries) {
  std::mt19937 rng(42);
  const int64_t M = 67, K = 200, N = 5, ldy = M + 3;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  const auto want = naive_matmul(w, M, K, x, K, N, ldy);
  const int tile = set().matmul.row_tile;
  ASSERT_GT(tile, 0);
  std::vector<int64_t> cuts = {0, 1, 3, 4, 17, M - 1, M};
  for (int64_t c = tile; c < M; c += tile) cuts.push_back(c);
  for (int64_t m0 : cuts) {
    for (int64_t m1 : cuts) {
      if (m1 < m0) continue;
      const auto got = run_matmul(set().matmul, w, M, K, x, K, N, m0, m1, ldy);
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < ldy; ++m) {
          const size_t i = static_cast<size_t>(n * ldy + m);
          const int32_t expect = (m >= m0 && m < m1) ? want[i] : kSentinel;
          ASSERT_EQ(got[i], expect) << "m0=" << m0 << " m1=" << m1 << " n=" << n << " m=" << m;
        }
    }
  }
}

TEST_P(TernaryMatmulTest, ExtremeActivationsCannotOverflow) {
  // All +1 (or all -1) weights against all +127 / all -128 activations: any int16 accumulation
  // held for more than a few steps would wrap.
  for (int64_t K : {255, 2560, 6912, 16384}) {
    const int64_t M = 8, N = 3;
    for (int wv : {1, -1, 2 /* alternating */}) {
      std::vector<int8_t> w(static_cast<size_t>(M * K));
      for (size_t i = 0; i < w.size(); ++i)
        w[i] = static_cast<int8_t>(wv == 2 ? ((i & 1) ? -1 : 1) : wv);
      for (int xv : {127, -128, 0 /* alternating +127/-128 */}) {
        std::vector<int8_t> x(static_cast<size_t>(N * K));
        for (size_t i = 0; i < x.size(); ++i)
          x[i] = static_cast<int8_t>(xv == 0 ? ((i & 1) ? -128 : 127) : xv);
        check(w, M, K, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(TernaryMatmulTest, EmptyRangeWritesNothing) {
  std::mt19937 rng(5);
  const int64_t M = 8, K = 64, N = 2, ldy = M;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  const auto got = run_matmul(set().matmul, w, M, K, x, K, N, 4, 4, ldy);
  for (int32_t v : got) ASSERT_EQ(v, kSentinel);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, TernaryMatmulTest, ::testing::ValuesIn(variant_indices()),
                         variant_test_name);

// The scalar kernel alone against hand-computed values (guards the reference itself).
TEST(TernaryMatmulScalar, HandComputed) {
  const KernelSet& s = *kernel_variants()[0].set;
  const std::vector<int8_t> w = {1, -1, 0, 1, 1, /**/ -1, -1, -1, 0, 1};
  const std::vector<int8_t> x = {10, 20, 30, 40, 50, /**/ -128, 127, 1, 2, 3};
  const auto y = run_matmul(s.matmul, w, 2, 5, x, 5, 2, 0, 2, 2);
  EXPECT_EQ(y[0], 10 - 20 + 40 + 50);
  EXPECT_EQ(y[1], -10 - 20 - 30 + 50);
  EXPECT_EQ(y[2], -128 - 127 + 2 + 3);
  EXPECT_EQ(y[3], 128 - 127 - 1 + 3);
}

}  // namespace
}  // namespace bitnet::kernels::testing
