// INT4 quantizer and ternary x int4 matmul: every variant equals its scalar twin bit for bit, the
// matmul equals the dense int8 kernel on int4-valued input, and the quantizer follows the a4.8 math.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "sparse_test_util.h"

namespace bitnet::kernels::testing {
namespace {

std::vector<int8_t> random_i4(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> d(-8, 7);
  std::vector<int8_t> v(n);
  for (auto& e : v) e = static_cast<int8_t>(d(rng));
  return v;
}

class Int4Test : public SparseVariantTest {
 protected:
  void check(const std::vector<int8_t>& w, int64_t M, int64_t K, const std::vector<int8_t>& x, int64_t ldx,
             int64_t N, int64_t m0, int64_t m1) {
    const int64_t ldy = M + 3;
    const auto want = naive_matmul(w, M, K, x, ldx, N, ldy);
    const auto dense = run_matmul(kernels().matmul, w, M, K, x, ldx, N, m0, m1, ldy);
    const auto got = run_matmul(set().matmul_i4, w, M, K, x, ldx, N, m0, m1, ldy);
    const auto twin = run_matmul(scalar().matmul_i4, w, M, K, x, ldx, N, m0, m1, ldy);
    for (int64_t n = 0; n < N; ++n)
      for (int64_t m = 0; m < ldy; ++m) {
        const size_t i = static_cast<size_t>(n * ldy + m);
        const int32_t expect = (m >= m0 && m < m1) ? want[i] : kSentinel;
        ASSERT_EQ(got[i], expect) << set().matmul_i4.name << " M=" << M << " K=" << K << " N=" << N
                                  << " n=" << n << " m=" << m;
        ASSERT_EQ(twin[i], expect) << "scalar M=" << M << " K=" << K << " n=" << n << " m=" << m;
        ASSERT_EQ(dense[i], expect) << "dense M=" << M << " K=" << K << " n=" << n << " m=" << m;
      }
  }
};

TEST_P(Int4Test, KTails) {
  std::mt19937 rng(31);
  for (int64_t K = 1; K <= 600; K += (K < 300 ? 1 : 41)) {
    for (int64_t M : {1, 5}) {
      const auto w = random_ternary(rng, static_cast<size_t>(M * K));
      const auto x = random_i4(rng, static_cast<size_t>(3 * K));
      check(w, M, K, x, K, 3, 0, M);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(Int4Test, RealShapesTokensAndRanges) {
  std::mt19937 rng(32);
  for (int64_t K : {2560, 6912}) {
    const int64_t M = 37;
    const auto w = random_ternary(rng, static_cast<size_t>(M * K));
    for (int64_t N : {1, 2, 9, 70}) {
      const auto x = random_i4(rng, static_cast<size_t>(N * K));
      check(w, M, K, x, K, N, 0, M);
      check(w, M, K, x, K, N, 4, 33);
      check(w, M, K, x, K, N, 8, 8);
      if (HasFatalFailure()) return;
    }
  }
}

TEST_P(Int4Test, ExtremeValues) {
  for (int64_t K : {255, 6912, 16384}) {
    const int64_t M = 5;
    for (int wv : {1, -1}) {
      const std::vector<int8_t> w(static_cast<size_t>(M * K), static_cast<int8_t>(wv));
      for (int xv : {7, -8}) {
        const std::vector<int8_t> x(static_cast<size_t>(2 * K), static_cast<int8_t>(xv));
        check(w, M, K, x, K, 2, 0, M);
        if (HasFatalFailure()) return;
      }
    }
  }
}

// Bit-exact against the scalar twin on the returned scale and every q.
void expect_same_quant(const SparseKernelSet& s, const SparseKernelSet& ref, const std::vector<float>& x) {
  const int64_t K = static_cast<int64_t>(x.size());
  std::vector<int8_t> q(x.size() + 1, 99), qr(x.size() + 1, 99);
  const float sc = s.quantize_i4(x.data(), K, q.data());
  const float sr = ref.quantize_i4(x.data(), K, qr.data());
  ASSERT_EQ(std::memcmp(&sc, &sr, sizeof(float)), 0) << s.quantize_i4_name << " K=" << K << " " << sc << " vs " << sr;
  ASSERT_EQ(q, qr) << s.quantize_i4_name << " K=" << K;
  ASSERT_EQ(q.back(), 99) << "wrote past K";
}

TEST_P(Int4Test, QuantizerMatchesScalarTwin) {
  std::mt19937 rng(33);
  for (int64_t K = 0; K <= 300; ++K) {
    for (float scale : {1e-7f, 1.0f, 1e4f}) {
      std::normal_distribution<float> d(0.f, scale);
      std::vector<float> x(static_cast<size_t>(K));
      for (auto& v : x) v = d(rng);
      expect_same_quant(set(), scalar(), x);
      if (HasFatalFailure()) return;
    }
  }
  for (int64_t K : {2560, 6912}) {
    std::student_t_distribution<float> d(2.0f);  // heavy tails: many clamps at -8 / 7
    std::vector<float> x(static_cast<size_t>(K));
    for (auto& v : x) v = d(rng);
    expect_same_quant(set(), scalar(), x);
  }
}

TEST_P(Int4Test, QuantizerNonFiniteGivesZeros) {
  for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                    std::numeric_limits<float>::quiet_NaN()}) {
    for (int64_t pos : {0, 5, 16, 37}) {
      std::vector<float> x(40, 1.5f);
      x[static_cast<size_t>(pos)] = bad;
      std::vector<int8_t> q(40, 9);
      EXPECT_EQ(set().quantize_i4(x.data(), 40, q.data()), 0.0f);
      for (int8_t v : q) ASSERT_EQ(v, 0);
    }
  }
  std::vector<float> huge(33, 3e38f);  // finite, but the |x| sum overflows: s = 0, q = 0
  std::vector<int8_t> q(33, 9);
  EXPECT_EQ(set().quantize_i4(huge.data(), 33, q.data()), 0.0f);
  for (int8_t v : q) ASSERT_EQ(v, 0);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, Int4Test, ::testing::ValuesIn(sparse_variant_indices()),
                         sparse_variant_test_name);

TEST(QuantizeI4Scalar, HandComputed) {
  const SparseKernelSet& s = *sparse_kernel_variants()[0].set;
  // mean|x| = (1 + 2 + 3 + 10) / 4 = 4; s = sqrt(7)/4 = 0.661437...
  const std::vector<float> x = {1.f, -2.f, 3.f, -10.f};
  std::vector<int8_t> q(4);
  const float sc = s.quantize_i4(x.data(), 4, q.data());
  EXPECT_FLOAT_EQ(sc, std::sqrt(7.0f) / 4.0f);
  EXPECT_EQ(q[0], 1);    // 0.66 -> 1
  EXPECT_EQ(q[1], -1);   // -1.32 -> -1
  EXPECT_EQ(q[2], 2);    // 1.98 -> 2
  EXPECT_EQ(q[3], -7);   // -6.61 -> -7
  // Clamp at 7 and -8, and ties to even: mean = 1, s = sqrt(7); x = k/sqrt(7) gives exact-ish k.
  const std::vector<float> big = {100.f, -100.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};  // mean 25
  q.resize(big.size());  // the quantizer writes one code per input
  const float sb = s.quantize_i4(big.data(), 8, q.data());
  EXPECT_FLOAT_EQ(sb, std::sqrt(7.0f) / 25.0f);
  EXPECT_EQ(q[0], 7);
  EXPECT_EQ(q[1], -8);
  // All zeros: the 1e-5 floor, q = 0.
  const std::vector<float> z(4, 0.f);
  EXPECT_FLOAT_EQ(s.quantize_i4(z.data(), 4, q.data()), std::sqrt(7.0f) / 1e-5f);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(q[i], 0);
}

TEST(QuantizeI4Scalar, TiesRoundToEven) {
  const SparseKernelSet& s = *sparse_kernel_variants()[0].set;
  // Every q is nearbyint (ties to even) of x times the returned scale, clamped.
  std::mt19937 rng(34);
  std::uniform_real_distribution<float> d(-3.f, 3.f);
  std::vector<float> x(64);
  for (auto& v : x) v = d(rng);
  std::vector<int8_t> q(64);
  const float sc = s.quantize_i4(x.data(), 64, q.data());
  for (size_t i = 0; i < x.size(); ++i) {
    const float r = std::nearbyint(x[i] * sc);
    EXPECT_EQ(q[i], static_cast<int8_t>(std::fmin(7.f, std::fmax(-8.f, r))));
  }
}

TEST(SparseDispatch, FollowsKernelIsa) {
  const auto& v = sparse_kernel_variants();
  ASSERT_FALSE(v.empty());
  EXPECT_STREQ(v[0].name, "scalar");
  for (const SparseKernelVariant& sv : v) {
    ASSERT_NE(sv.set, nullptr);
    EXPECT_EQ(sv.set->isa, sv.isa);
    EXPECT_GT(sv.set->cols.row_tile, 0);
  }
  const Isa before = kernels().isa;
  force_isa(Isa::Scalar);
  EXPECT_EQ(sparse_kernels().isa, Isa::Scalar);
  EXPECT_STREQ(sparse_kernels().rows.name, "rows_scalar");
  force_isa(before);
  // Every ISA we build for has its own sparse set, so the active one follows kernels().isa; an ISA
  // without one would fall back to a lower set (scalar here).
  const Isa expected = sparse_kernels_for(before) ? before : Isa::Scalar;
  EXPECT_EQ(sparse_kernels().isa, expected);
  if (before != Isa::Scalar) {
    EXPECT_NE(sparse_kernels_for(before), nullptr) << isa_name(before) << " has no sparse set";
  }
#if defined(__aarch64__)
  // aarch64: NEON is always there; the dotprod variant wins when the CPU has it.
  const SparseKernelSet* neon = sparse_kernels_for(Isa::Neon);
  ASSERT_NE(neon, nullptr);
  EXPECT_EQ(neon->isa, Isa::Neon);
  EXPECT_STREQ(neon->rows.name, cpu_info().neon_dotprod ? "rows_neondot" : "rows_neon");
  EXPECT_STREQ(neon->matmul_i4.name, cpu_info().neon_dotprod ? "i4_neondot" : "i4_neon");
  EXPECT_STREQ(neon->quantize_i4_name, "q4_neon");
  force_isa(Isa::Neon);
  EXPECT_EQ(sparse_kernels().isa, Isa::Neon);
  EXPECT_EQ(&sparse_kernels(), neon);
  force_isa(before);
#endif
}

}  // namespace
}  // namespace bitnet::kernels::testing
