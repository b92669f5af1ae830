#include "graph/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace bitnet {
namespace {

TEST(Ops, RmsNormMatchesDefinition) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0, 3);
  std::vector<float> x(97), w(97), y(97);
  for (auto& v : x) v = nd(rng);
  for (auto& v : w) v = 1 + nd(rng) * 0.1f;
  ops::rms_norm(x.data(), w.data(), 97, 1e-5f, y.data());
  double ms = 0;
  for (float v : x) ms += double(v) * v;
  ms /= 97;
  for (int i = 0; i < 97; ++i) EXPECT_NEAR(y[i], w[i] * x[i] / std::sqrt(ms + 1e-5), 1e-5 * std::fabs(y[i]) + 1e-6);
}

TEST(Ops, RopeRotateHalfPairsIWithIPlusHalf) {
  const int64_t hd = 8;
  auto t = ops::make_rope_tables(hd, 10000.0f, 16);
  std::vector<float> x(hd);
  for (int i = 0; i < hd; ++i) x[i] = float(i + 1);
  std::vector<float> y = x;
  ops::rope_rotate_half(y.data(), 1, hd, t, 5);
  for (int i = 0; i < hd / 2; ++i) {
    const double f = 5.0 / std::pow(10000.0, 2.0 * i / hd);
    EXPECT_NEAR(y[i], x[i] * std::cos(f) - x[i + 4] * std::sin(f), 1e-4);
    EXPECT_NEAR(y[i + 4], x[i + 4] * std::cos(f) + x[i] * std::sin(f), 1e-4);
  }
  // Position 0 is the identity.
  std::vector<float> z = x;
  ops::rope_rotate_half(z.data(), 1, hd, t, 0);
  EXPECT_EQ(z, x);
}

TEST(Ops, SoftmaxSumsToOneAndIsStable) {
  std::vector<float> x = {1000.0f, 1001.0f, 999.0f};
  ops::softmax(x.data(), 3);
  EXPECT_NEAR(x[0] + x[1] + x[2], 1.0f, 1e-6);
  EXPECT_GT(x[1], x[0]);
  EXPECT_GT(x[0], x[2]);
}

TEST(Ops, DotHandlesTails) {
  for (int n : {0, 1, 7, 8, 9, 33}) {
    std::vector<float> a(n), b(n);
    double want = 0;
    for (int i = 0; i < n; ++i) {
      a[i] = float(i) * 0.5f;
      b[i] = float(n - i);
      want += double(a[i]) * b[i];
    }
    EXPECT_NEAR(ops::dot_f32(a.data(), b.data(), n), want, 1e-3) << n;
  }
}

TEST(Ops, Relu2AndSiluGates) {
  const float g[3] = {-1.0f, 0.0f, 2.0f}, u[3] = {5.0f, 5.0f, 3.0f};
  float out[3];
  ops::relu2_mul(g, u, 3, out);
  EXPECT_EQ(out[0], 0.0f);
  EXPECT_EQ(out[1], 0.0f);
  EXPECT_EQ(out[2], 12.0f);
  ops::silu_mul(g, u, 3, out);
  EXPECT_NEAR(out[2], 2.0f / (1 + std::exp(-2.0f)) * 3.0f, 1e-6);
  EXPECT_NEAR(out[0], -1.0f / (1 + std::exp(1.0f)) * 5.0f, 1e-6);
}

}  // namespace
}  // namespace bitnet

namespace bitnet {
namespace {

TEST(Ops, RopeInterleavedPairsNeighbours) {
  const int64_t hd = 8;
  auto t = ops::make_rope_tables(hd, 10000.0f, 16);
  std::vector<float> x(hd);
  for (int i = 0; i < hd; ++i) x[i] = float(i + 1);
  std::vector<float> y = x;
  ops::rope_interleaved(y.data(), 1, hd, t, 3);
  for (int i = 0; i < hd / 2; ++i) {
    const double f = 3.0 / std::pow(10000.0, 2.0 * i / hd);
    EXPECT_NEAR(y[2 * i], x[2 * i] * std::cos(f) - x[2 * i + 1] * std::sin(f), 1e-4);
    EXPECT_NEAR(y[2 * i + 1], x[2 * i + 1] * std::cos(f) + x[2 * i] * std::sin(f), 1e-4);
  }
}

}  // namespace
}  // namespace bitnet
