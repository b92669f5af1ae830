// Row-subset ternary matmul: every variant against the naive reference and the dense kernel, over K
// tails, odd M, empty / full / scattered / unsorted row lists, N > 1, and extreme activations.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

#include "sparse_test_util.h"

namespace bitnet::kernels::testing {
namespace {

class RowSubsetTest : public SparseVariantTest {
 protected:
  // Runs rows on x (N tokens, row stride ldx) and checks every y entry: listed rows equal the naive
  // result, all others keep the sentinel.
  void check(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int32_t>& rows,
             const std::vector<int8_t>& x, int64_t ldx, int64_t N) {
    const int64_t ldy = M + 3;
    const auto want = naive_matmul(w, M, K, x, ldx, N, ldy);
    for (const SparseKernelSet* s : {&set(), &scalar()}) {
      const auto packed = pack_checked(s->rows, w, M, K);
      std::vector<int32_t> y(static_cast<size_t>(N * ldy), kSentinel);
      s->rows.matmul_rows(packed.data(), M, K, rows.data(), static_cast<int64_t>(rows.size()), x.data(), ldx,
                          N, y.data(), ldy);
      std::vector<char> listed(static_cast<size_t>(M), 0);
      for (int32_t r : rows)
        if (r >= 0 && r < M) listed[static_cast<size_t>(r)] = 1;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < ldy; ++m) {
          const size_t i = static_cast<size_t>(n * ldy + m);
          const int32_t expect = (m < M && listed[static_cast<size_t>(m)]) ? want[i] : kSentinel;
          ASSERT_EQ(y[i], expect) << s->rows.name << " M=" << M << " K=" << K << " N=" << N << " n=" << n
                                  << " m=" << m << " nrows=" << rows.size();
        }
    }
  }
};

std::vector<int32_t> all_rows(int64_t M) {
  std::vector<int32_t> r(static_cast<size_t>(M));
  std::iota(r.begin(), r.end(), 0);
  return r;
}

std::vector<int32_t> random_rows(std::mt19937& rng, int64_t M, double keep) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<int32_t> r;
  for (int64_t m = 0; m < M; ++m)
    if (u(rng) < keep) r.push_back(static_cast<int32_t>(m));
  return r;
}

TEST_P(RowSubsetTest, KTailsAllRows) {
  std::mt19937 rng(11);
  for (int64_t K = 1; K <= 600; K += (K < 300 ? 1 : 37)) {
    for (int64_t M : {1, 5}) {
      const auto w = random_ternary(rng, static_cast<size_t>(M * K));
      const auto x = random_i8(rng, static_cast<size_t>(2 * K));
      check(w, M, K, all_rows(M), x, K, 1);
      check(w, M, K, all_rows(M), x, K, 2);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(RowSubsetTest, RealShapesSparseRowLists) {
  std::mt19937 rng(12);
  for (auto [M, K] : {std::pair<int64_t, int64_t>{691, 2560}, {37, 6912}}) {
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    for (double keep : {0.0, 0.15, 0.5, 1.0}) {
      const auto rows = random_rows(rng, M, keep);
      for (int64_t N : {1, 3, 7}) {
        const auto x = random_i8(rng, static_cast<size_t>(N * K));
        check(w, M, K, rows, x, K, N);
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(RowSubsetTest, EmptyUnsortedDuplicateAndOutOfRangeRows) {
  std::mt19937 rng(13);
  const int64_t M = 29, K = 333, ldx = K + 7;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(3 * ldx));
  check(w, M, K, {}, x, ldx, 3);
  check(w, M, K, {28, 3, 17, 3, 0, 5, 28}, x, ldx, 3);
  check(w, M, K, {-1, 4, 29, 1000000, 7, -2147483647 - 1, 2147483647}, x, ldx, 3);
  check(w, M, K, {-1, 29}, x, ldx, 1);
}

TEST_P(RowSubsetTest, ManyTokens) {
  std::mt19937 rng(14);
  const int64_t M = 13, K = 513, N = 70;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(N * K));
  check(w, M, K, {0, 2, 3, 4, 5, 11, 12}, x, K, N);
}

TEST_P(RowSubsetTest, ExtremeActivations) {
  for (int64_t K : {255, 2560, 6912, 16384}) {
    const int64_t M = 6;
    for (int wv : {1, -1, 2}) {
      std::vector<int8_t> w(static_cast<size_t>(M * K));
      for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(wv == 2 ? ((i & 1) ? -1 : 1) : wv);
      for (int xv : {127, -128, 0}) {
        std::vector<int8_t> x(static_cast<size_t>(2 * K));
        for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<int8_t>(xv == 0 ? ((i & 1) ? -128 : 127) : xv);
        check(w, M, K, {0, 2, 3, 5}, x, K, 2);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// The rows kernel over all rows equals the active dense kernel (the graph may mix them).
TEST_P(RowSubsetTest, EqualsDenseKernel) {
  std::mt19937 rng(15);
  const int64_t M = 64, K = 2560;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_i8(rng, static_cast<size_t>(K));
  const auto dense = run_matmul(kernels().matmul, w, M, K, x, K, 1, 0, M, M);
  const auto packed = pack_checked(set().rows, w, M, K);
  const auto rows = all_rows(M);
  std::vector<int32_t> y(static_cast<size_t>(M), kSentinel);
  set().rows.matmul_rows(packed.data(), M, K, rows.data(), M, x.data(), K, 1, y.data(), M);
  EXPECT_EQ(y, dense);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, RowSubsetTest, ::testing::ValuesIn(sparse_variant_indices()),
                         sparse_variant_test_name);

}  // namespace
}  // namespace bitnet::kernels::testing
