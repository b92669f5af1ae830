// Ternary arithmetic of the converter: absmean scale, round-half-even, HF unpacking, BT2 packing.
#include "convert/ternary.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "convert/test_helpers.h"

namespace bitnet::test {
namespace {

using namespace bitnet::convert;

TEST(Ternary, AbsmeanScale) {
  const std::vector<float> w = {0.5f, -1.5f, 1.0f, -1.0f};  // mean|w| = 1
  EXPECT_EQ(absmean_inverse_scale(w.data(), w.size()), 1.0f);
  const std::vector<float> tiny = {1e-7f, -1e-7f};  // clamped at 1e-5
  EXPECT_EQ(absmean_inverse_scale(tiny.data(), tiny.size()), 1.0f / 1e-5f);
  const std::vector<float> zeros(8, 0.0f);
  EXPECT_EQ(absmean_inverse_scale(zeros.data(), zeros.size()), 1.0f / 1e-5f);
}

TEST(Ternary, RoundsHalfToEvenAndClamps) {
  // With s_w = 1: 0.5 -> 0 and -0.5 -> 0 (ties to even), 1.5 -> 2 -> clamp 1, 0.51 -> 1.
  const std::vector<float> w = {0.5f, -0.5f, 1.5f, -1.5f, 0.51f, -0.49f, 7.0f, -7.0f, 0.0f};
  std::vector<int8_t> q(w.size());
  ternarize(w.data(), w.size(), 1.0f, q.data(), "t");
  EXPECT_EQ(q, (std::vector<int8_t>{0, 0, 1, -1, 1, 0, 1, -1, 0}));
  // The product is formed in float32 before rounding: 0.25 * 2 = 0.5 exactly -> 0.
  const std::vector<float> w2 = {0.25f, 0.75f};
  std::vector<int8_t> q2(2);
  ternarize(w2.data(), 2, 2.0f, q2.data(), "t");
  EXPECT_EQ(q2, (std::vector<int8_t>{0, 1}));  // 0.5 -> 0, 1.5 -> 2 -> 1
}

TEST(Ternary, RejectsNonFinite) {
  const std::vector<float> w = {0.1f, NAN};
  std::vector<int8_t> q(2);
  expect_error([&] { ternarize(w.data(), 2, 1.0f, q.data(), "blk.weight"); }, {"'blk.weight'", "element 1"});
}

TEST(Ternary, UnpacksTransformersLayout) {
  // W [8, 3]: R = 2 packed rows; row i*R + r lives in bit pair i of packed row r.
  std::vector<int8_t> w(8 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(int(i * 7 % 3) - 1);
  std::vector<uint8_t> packed(2 * 3, 0);
  for (int row = 0; row < 8; ++row)
    for (int c = 0; c < 3; ++c) packed[(row % 2) * 3 + c] |= uint8_t((w[row * 3 + c] + 1) << (2 * (row / 2)));
  std::vector<int8_t> out(w.size());
  unpack_hf_ternary(packed.data(), 8, 3, out.data(), "t");
  EXPECT_EQ(out, w);
  // A literal byte: 0b10'01'00'10 -> rows 0..3 of a [4, 1] matrix = +1, -1, 0, +1.
  const uint8_t b = 0b10010010;
  std::vector<int8_t> o4(4);
  unpack_hf_ternary(&b, 4, 1, o4.data(), "t");
  EXPECT_EQ(o4, (std::vector<int8_t>{1, -1, 0, 1}));
}

TEST(Ternary, UnpackRowCountNotMultipleOfFour) {
  // out = 5: R = 2, rows 0,1 in bits 0-1; 2,3 in bits 2-3; row 4 in bits 4-5 of packed row 0.
  const uint8_t packed[2] = {0b00'10'00'10 | 0b01'00'00'00, 0b00'00'10'00};
  std::vector<int8_t> out(5);
  unpack_hf_ternary(packed, 5, 1, out.data(), "t");
  EXPECT_EQ(out, (std::vector<int8_t>{1, -1, -1, 1, 1}));
}

TEST(Ternary, UnpackRejectsCodeThree) {
  const uint8_t packed[2] = {0x55, 0x55 | 0x30};  // row 2*R + 1 = 5 holds code 3
  std::vector<int8_t> out(8);
  expect_error([&] { unpack_hf_ternary(packed, 8, 1, out.data(), "blk.0.ffn_up"); },
               {"'blk.0.ffn_up'", "code 3", "row 5"});
}

TEST(Ternary, WeightScaleSemantics) {
  EXPECT_EQ(weight_scale_kind("bitlinear"), WeightScaleKind::Inverse);
  EXPECT_EQ(weight_scale_kind("autobitlinear"), WeightScaleKind::Direct);
  EXPECT_EQ(alpha_from_weight_scale(4.0f, WeightScaleKind::Inverse), 0.25f);
  EXPECT_EQ(alpha_from_weight_scale(0.25f, WeightScaleKind::Direct), 0.25f);
  expect_error([] { weight_scale_kind("fancylinear"); }, {"'fancylinear'", "bitlinear", "autobitlinear"});
}

}  // namespace
}  // namespace bitnet::test
