// Column-sparse ternary matvec: every variant against the naive reference over odd M (row padding),
// K sizes, sparsity from none to all-zero, more non-zeros than one int16 span, thread row ranges,
// duplicate / unsorted / out-of-range indices and extreme values.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "sparse_test_util.h"

namespace bitnet::kernels::testing {
namespace {

class ColSparseTest : public SparseVariantTest {
 protected:
  // y over [m0, m1) from (idx, val); naive from the equivalent dense x (duplicates summed).
  void check(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int32_t>& idx,
             const std::vector<int8_t>& val, int64_t m0, int64_t m1) {
    std::vector<int64_t> want(static_cast<size_t>(M), 0);
    for (size_t i = 0; i < idx.size(); ++i) {
      if (idx[i] < 0 || idx[i] >= K) continue;
      for (int64_t m = 0; m < M; ++m) want[static_cast<size_t>(m)] += int64_t{w[m * K + idx[i]]} * val[i];
    }
    for (const SparseKernelSet* s : {&set(), &scalar()}) {
      const auto packed = pack_checked(s->cols, w, M, K);
      std::vector<int32_t> y(static_cast<size_t>(M + 3), kSentinel);
      s->cols.matvec(packed.data(), M, K, m0, m1, idx.data(), val.data(), static_cast<int64_t>(idx.size()),
                     y.data());
      for (int64_t m = 0; m < M + 3; ++m) {
        const int32_t expect = (m >= m0 && m < m1) ? static_cast<int32_t>(want[static_cast<size_t>(m)]) : kSentinel;
        ASSERT_EQ(y[static_cast<size_t>(m)], expect)
            << s->cols.name << " M=" << M << " K=" << K << " nnz=" << idx.size() << " m0=" << m0
            << " m1=" << m1 << " m=" << m;
      }
    }
  }
  void check_dense_x(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int8_t>& x) {
    std::vector<int32_t> idx(static_cast<size_t>(K));
    std::vector<int8_t> val(static_cast<size_t>(K));
    const int64_t nnz = sparse_gather(x.data(), K, idx.data(), val.data());
    idx.resize(static_cast<size_t>(nnz));
    val.resize(static_cast<size_t>(nnz));
    check(w, M, K, idx, val, 0, M);
  }
};

TEST_P(ColSparseTest, ShapesAndSparsities) {
  std::mt19937 rng(21);
  for (int64_t M : {1, 7, 64, 255, 256, 257, 700}) {
    for (int64_t K : {1, 3, 130, 333}) {
      const auto w = random_ternary(rng, static_cast<size_t>(M * K));
      for (double z : {0.0, 0.5, 0.85, 1.0}) {
        check_dense_x(w, M, K, random_sparse_i8(rng, static_cast<size_t>(K), z));
        if (HasFatalFailure()) return;
      }
    }
  }
}

TEST_P(ColSparseTest, RealShapes) {
  std::mt19937 rng(22);
  for (auto [M, K] : {std::pair<int64_t, int64_t>{2560, 6912}, {2560, 2560}}) {
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    for (double z : {0.0, 0.5, 0.7, 0.85, 0.99}) {
      check_dense_x(w, M, K, random_sparse_i8(rng, static_cast<size_t>(K), z));
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(ColSparseTest, ManyRowsBeyondOneBlock) {
  // More than 16 chunks of 256 rows (one accumulator block) and a ragged end.
  std::mt19937 rng(23);
  const int64_t M = 16 * 256 + 300, K = 40;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  check_dense_x(w, M, K, random_sparse_i8(rng, static_cast<size_t>(K), 0.3));
}

TEST_P(ColSparseTest, RowRangesAcrossBlocks) {
  // Thread ranges that start inside the matrix and cross a 16-chunk accumulator block boundary, with
  // more non-zeros than one int16 batch.
  std::mt19937 rng(26);
  const int64_t M = 20 * 256 + 77, K = 400;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_sparse_i8(rng, static_cast<size_t>(K), 0.2);
  std::vector<int32_t> idx(static_cast<size_t>(K));
  std::vector<int8_t> val(static_cast<size_t>(K));
  const int64_t nnz = sparse_gather(x.data(), K, idx.data(), val.data());
  idx.resize(static_cast<size_t>(nnz));
  val.resize(static_cast<size_t>(nnz));
  const int64_t t = set().cols.row_tile;
  ASSERT_GT(t, 0);
  for (auto [c0, c1] : {std::pair<int64_t, int64_t>{3, 19}, {3, 21}, {1, 18}, {17, 21}}) {
    check(w, M, K, idx, val, c0 * t, std::min(M, c1 * t));
    if (HasFatalFailure()) return;
  }
}

TEST_P(ColSparseTest, RowRangesInTiles) {
  std::mt19937 rng(24);
  const int64_t M = 1100, K = 300;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  const auto x = random_sparse_i8(rng, static_cast<size_t>(K), 0.6);
  std::vector<int32_t> idx(static_cast<size_t>(K));
  std::vector<int8_t> val(static_cast<size_t>(K));
  const int64_t nnz = sparse_gather(x.data(), K, idx.data(), val.data());
  idx.resize(static_cast<size_t>(nnz));
  val.resize(static_cast<size_t>(nnz));
  const int64_t t = set().cols.row_tile;
  ASSERT_GT(t, 0);
  for (int64_t m0 = 0; m0 < M; m0 += t)
    for (int64_t m1 = m0; m1 <= M; m1 = (m1 + t > M && m1 < M) ? M : m1 + t) {
      check(w, M, K, idx, val, m0, m1);
      if (HasFatalFailure()) return;
    }
}

TEST_P(ColSparseTest, UnsortedDuplicateOutOfRangeAndEmpty) {
  std::mt19937 rng(25);
  const int64_t M = 300, K = 50;
  const auto w = random_ternary(rng, static_cast<size_t>(M * K));
  check(w, M, K, {}, {}, 0, M);
  check(w, M, K, {49, 3, 3, 0, 17, 3}, {5, -7, 127, -128, 1, 2}, 0, M);
  check(w, M, K, {-1, 50, 4, 2147483647, -2147483647 - 1, 9}, {1, 2, 3, 4, 5, 6}, 0, M);
  check(w, M, K, {-1, 50}, {100, 100}, 0, M);
}

TEST_P(ColSparseTest, ExtremeValuesLongLists) {
  // Thousands of +/-128 and +127 inputs against all +1 / all -1 weights: any int16 sum held past
  // its span would wrap. Duplicate indices make lists longer than K.
  const int64_t M = 300, K = 6912;
  for (int wv : {1, -1}) {
    const std::vector<int8_t> w(static_cast<size_t>(M * K), static_cast<int8_t>(wv));
    for (int xv : {127, -128}) {
      std::vector<int32_t> idx;
      std::vector<int8_t> val;
      for (int64_t r = 0; r < 3; ++r)
        for (int64_t k = 0; k < K; ++k) {
          idx.push_back(static_cast<int32_t>(k));
          val.push_back(static_cast<int8_t>(xv));
        }
      check(w, M, K, idx, val, 0, M);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(SparseGather, CompactsNonZeros) {
  const std::vector<int8_t> x = {0, 5, 0, 0, -128, 127, 0};
  std::vector<int32_t> idx(x.size());
  std::vector<int8_t> val(x.size());
  ASSERT_EQ(sparse_gather(x.data(), 7, idx.data(), val.data()), 3);
  EXPECT_EQ(idx[0], 1);
  EXPECT_EQ(idx[1], 4);
  EXPECT_EQ(idx[2], 5);
  EXPECT_EQ(val[0], 5);
  EXPECT_EQ(val[1], -128);
  EXPECT_EQ(val[2], 127);
  EXPECT_EQ(sparse_gather(x.data(), 0, idx.data(), val.data()), 0);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, ColSparseTest, ::testing::ValuesIn(sparse_variant_indices()),
                         sparse_variant_test_name);

}  // namespace
}  // namespace bitnet::kernels::testing
