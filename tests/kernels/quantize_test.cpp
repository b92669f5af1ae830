// The activation quantizer: every variant bit-identical to the scalar twin (same scale, same
// bytes), and the scalar twin against hand-checked rounding (ties to even) and edge cases.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "kernel_test_util.h"

namespace bitnet::kernels::testing {
namespace {

class QuantizeTest : public VariantTest {
 protected:
  void check(const std::vector<float>& x) {
    const int64_t K = static_cast<int64_t>(x.size());
    std::vector<int8_t> q(x.size() + 8, 77), qs(x.size() + 8, 77);
    const float s = set().quantize_i8(x.data(), K, q.data());
    const float ss = scalar().quantize_i8(x.data(), K, qs.data());
    ASSERT_EQ(std::memcmp(&s, &ss, sizeof s), 0) << set().quantize_name << " K=" << K << " s=" << s
                                                << " scalar s=" << ss;
    for (size_t i = 0; i < q.size(); ++i)
      ASSERT_EQ(q[i], qs[i]) << set().quantize_name << " K=" << K << " i=" << i << " x=" << (i < x.size() ? x[i] : 0.f);
  }
};

TEST_P(QuantizeTest, RandomRowsAllLengths) {
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.f, 2.f);
  std::vector<int64_t> lengths;
  for (int64_t K = 1; K <= 70; ++K) lengths.push_back(K);
  for (int64_t K : {127, 128, 129, 2560, 6912}) lengths.push_back(K);
  for (int64_t K : lengths) {
    std::vector<float> x(static_cast<size_t>(K));
    for (auto& v : x) v = d(rng);
    check(x);
    if (HasFatalFailure()) return;
  }
}

TEST_P(QuantizeTest, TiesZerosHugeAndTiny) {
  // amax = 127 makes s exactly 1, so x.5 values are exact ties after scaling.
  std::vector<float> ties = {127.f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -126.5f, 3.5f, -127.f,
                             63.5f, -64.5f, 0.f, -0.f, 100.49999f, 7.f, 8.5f, 9.5f, -10.5f};
  check(ties);
  for (size_t rep = 0; rep < 3; ++rep) ties.insert(ties.end(), ties.begin(), ties.end());  // longer than a vector
  check(ties);
  check(std::vector<float>(37, 0.f));
  check(std::vector<float>(19, 1e-7f));
  check(std::vector<float>(23, -3e38f));
  std::vector<float> huge = {1e30f, -1e30f, 5e29f, 1.f, -2.5e29f, FLT_MAX, -FLT_MAX, 0.f, 1e-30f};
  check(huge);
  std::vector<float> denorm = {1e-40f, -2e-41f, 0.f, 3e-39f, -1e-45f};
  check(denorm);
  // Non-finite input: q all zero and s == 0 in every variant.
  std::vector<float> bad(33, 1.f);
  bad[17] = std::numeric_limits<float>::quiet_NaN();
  check(bad);
  bad[17] = std::numeric_limits<float>::infinity();
  check(bad);
  bad[17] = 1.f;
  bad[32] = -std::numeric_limits<float>::infinity();
  check(bad);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, QuantizeTest, ::testing::ValuesIn(variant_indices()),
                         variant_test_name);

TEST(QuantizeScalar, RoundsHalfToEvenAndScales) {
  const KernelSet& s = *kernel_variants()[0].set;
  const std::vector<float> x = {127.f, 0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 126.5f, -127.f};
  std::vector<int8_t> q(x.size());
  EXPECT_EQ(s.quantize_i8(x.data(), static_cast<int64_t>(x.size()), q.data()), 1.0f);
  EXPECT_EQ(q, (std::vector<int8_t>{127, 0, 2, 2, 0, -2, -2, 126, -127}));

  const std::vector<float> y = {-2.f, 1.f, 0.5f};
  std::vector<int8_t> qy(3);
  EXPECT_EQ(s.quantize_i8(y.data(), 3, qy.data()), 63.5f);
  EXPECT_EQ(qy, (std::vector<int8_t>{-127, 64, 32}));  // 63.5 -> 64 (even), 31.75 -> 32

  const std::vector<float> z(5, 0.f);
  std::vector<int8_t> qz(5, 9);
  EXPECT_EQ(s.quantize_i8(z.data(), 5, qz.data()), 127.0f / 1e-5f);
  EXPECT_EQ(qz, std::vector<int8_t>(5, 0));

  std::vector<float> n = {1.f, std::numeric_limits<float>::quiet_NaN()};
  std::vector<int8_t> qn(2, 9);
  EXPECT_EQ(s.quantize_i8(n.data(), 2, qn.data()), 0.0f);
  EXPECT_EQ(qn, std::vector<int8_t>(2, 0));
}

}  // namespace
}  // namespace bitnet::kernels::testing
