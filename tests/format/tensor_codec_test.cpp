// Byte layouts of the tensor codecs, checked against hand-computed bytes, and their error paths.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "format/half.h"
#include "format/tensor_codec.h"
#include "util/error.h"

namespace bitnet {
namespace {

using gguf::TensorInfo;

TensorInfo info(const std::string& name, std::vector<uint64_t> dims, TensorType type, const std::vector<uint8_t>& bytes) {
  TensorInfo t;
  t.name = name;
  t.dims = std::move(dims);
  t.type = type;
  t.gguf_type = tensor_type_traits(type).gguf_id;
  t.nbytes = bytes.size();
  t.data = bytes.data();
  return t;
}

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

#if defined(__x86_64__)
__attribute__((target("f16c"))) uint16_t hw_f32_to_f16(float f) { return uint16_t(_cvtss_sh(f, 0)); }
__attribute__((target("f16c"))) float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }

TEST(Half, MatchesF16cHardwareExhaustivelyAndOnRandomFloats) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C";
  for (uint32_t h = 0; h < 65536; ++h) {
    const float a = f16_to_f32(uint16_t(h)), b = hw_f16_to_f32(uint16_t(h));
    ASSERT_EQ(f32_bits(a), f32_bits(b)) << h;
    if (!std::isnan(a)) {
      ASSERT_EQ(f32_to_f16(a), h) << h;
    }
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 2000000; ++i) {
    const float f = f32_from_bits(uint32_t(rng()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), hw_f32_to_f16(f)) << std::hexfloat << f;
  }
  // Ties around the subnormal and overflow boundaries.
  for (float f : {65504.0f, 65519.99f, 65520.0f, 5.9604645e-8f, 2.9802322e-8f, 2.9802326e-8f, 8.940697e-8f,
                  6.1035156e-5f, 6.1032164e-5f, -0.0f})
    EXPECT_EQ(f32_to_f16(f), hw_f32_to_f16(f)) << f;
}
#endif

TEST(Half, Bf16RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(f32_from_bits(0x3f808001)), 0x3f81);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(bf16_to_f32(0xc000), -2.0f);
}

TEST(TensorCodec, I2sLayoutIsFlat128BlocksTopBitsFirst) {
  // 2 rows of 64: one 128-block spans both rows. Element e sits in byte e%32 at shift 6-2*(e/32).
  std::vector<int8_t> v(128, 0);
  v[0] = 1;     // byte 0, bits 7..6 -> code 2
  v[32] = -1;   // byte 0, bits 5..4 -> code 0
  v[127] = 1;   // byte 31, bits 1..0 -> code 2 (row 1, col 63)
  const auto b = encode_i2_s(v.data(), 2, 64, 0.25f);
  ASSERT_EQ(b.size(), 128u / 4 + 32);
  EXPECT_EQ(b[0], 0x80 | 0x00 | 0x04 | 0x01);  // codes 2,0,1,1
  EXPECT_EQ(b[1], 0x55);
  EXPECT_EQ(b[31], 0x40 | 0x10 | 0x04 | 0x02);
  float s;
  std::memcpy(&s, b.data() + 32, 4);
  EXPECT_EQ(s, 0.25f);
  for (size_t i = 36; i < b.size(); ++i) EXPECT_EQ(b[i], 0);
  const TensorInfo t = info("w", {64, 2}, TensorType::I2_S, b);
  const TernaryWeights w = decode_ternary(t, nullptr);
  EXPECT_EQ(w.values, v);
  EXPECT_EQ(w.scale, 0.25f);
  std::vector<float> row(64);
  decode_rows_to_f32(t, 1, 1, row.data());
  EXPECT_EQ(row[63], 0.25f);
  EXPECT_EQ(row[0], 0.0f);
}

TEST(TensorCodec, I2sCode3IsAnErrorNamingTensorAndByte) {
  std::vector<int8_t> v(128, 0);
  auto b = encode_i2_s(v.data(), 1, 128, 1.0f);
  b[5] |= 0x30;  // element 37 -> code 3
  EXPECT_THAT([&] { decode_ternary(info("blk.3.ffn_up.weight", {128}, TensorType::I2_S, b), nullptr); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("tensor 'blk.3.ffn_up.weight': invalid i2_s code 3 in data byte 5")));
}

TEST(TensorCodec, Bt2LayoutIsRowMajorLowBitsFirstWithZeroPadding) {
  // 2 rows of K = 5: ceil(5/4) = 2 bytes per row; element k in byte k/4 at bits 2*(k%4).
  const std::vector<int8_t> v = {-1, 0, 1, 1, -1,  /**/ 0, 0, 0, 0, 1};
  const auto b = encode_bt2(v.data(), 2, 5);
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0], 0 | 1 << 2 | 2 << 4 | 2 << 6);
  EXPECT_EQ(b[1], 0 | 1 << 2 | 1 << 4 | 1 << 6);  // padding codes are 1
  EXPECT_EQ(b[2], 0x55);
  EXPECT_EQ(b[3], 2 | 1 << 2 | 1 << 4 | 1 << 6);
  EXPECT_EQ(bt2_nbytes(2, 5), 4u);
  const float alpha = 3.0f;
  const auto sb = f32_bytes({alpha});
  const TensorInfo sc = info("x.scale", {1}, TensorType::F32, sb);
  const TernaryWeights w = decode_ternary(info("x.weight", {5, 2}, TensorType::BT2, b), &sc);
  EXPECT_EQ(w.values, v);
  EXPECT_EQ(w.scale, alpha);
  auto bad = b;
  bad[2] |= 0x0c;  // element 1 of row 1 -> code 3
  EXPECT_THAT([&] { decode_ternary(info("x.weight", {5, 2}, TensorType::BT2, bad), &sc); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("tensor 'x.weight': invalid bt2 code 3 in data byte 2")));
  EXPECT_THAT([&] { decode_to_f32(info("x.weight", {5, 2}, TensorType::BT2, b)); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("needs its scale tensor 'x.scale'")));
  EXPECT_EQ(scale_tensor_name("blk.0.attn_q.weight"), "blk.0.attn_q.scale");
  EXPECT_EQ(scale_tensor_name("odd"), "odd.scale");
}

TEST(TensorCodec, Tq2LayoutMatchesLlamaCpp) {
  // Byte m of half h holds elements 128h + m + 32l at bits 2l (low bits first); d (fp16) last.
  std::vector<int8_t> v(256, 0);
  v[0] = 1;    // byte 0 bits 0..1 -> 2
  v[32] = -1;  // byte 0 bits 2..3 -> 0
  v[128 + 96 + 5] = 1;  // half 1, byte 32 + 5, bits 6..7 -> 2
  const auto b = encode_tq2_0(v.data(), 1, 256, 0.5f);
  ASSERT_EQ(b.size(), 66u);
  EXPECT_EQ(b[0], 2 | 0 << 2 | 1 << 4 | 1 << 6);
  EXPECT_EQ(b[37], 1 | 1 << 2 | 1 << 4 | 2 << 6);
  EXPECT_EQ(b[1], 0x55);
  EXPECT_EQ(b[64] | b[65] << 8, 0x3800);  // fp16 0.5
}

TEST(TensorCodec, Tq1LayoutMatchesLlamaCpp) {
  // All-zero values (codes 1) with a nonzero scale: every 5-trit byte is ceil(121*256/243) = 128,
  // every qh byte ceil(40*3*256/243) = 127... computed: (120*256 + 242) / 243 = 127.
  std::vector<int8_t> v(256, 0);
  v[1] = 1;  // keep the block nonzero so d is written: byte 1 trit 0 -> 2*81 + 40 = 202
  const auto b = encode_tq1_0(v.data(), 1, 256, 1.0f);
  ASSERT_EQ(b.size(), 54u);
  EXPECT_EQ(b[0], (121 * 256 + 242) / 243);
  EXPECT_EQ(b[1], (202 * 256 + 242) / 243);
  EXPECT_EQ(b[40], (121 * 256 + 242) / 243);
  EXPECT_EQ(b[49], (120 * 256 + 242) / 243);
  EXPECT_EQ(b[52] | b[53] << 8, 0x3c00);  // fp16 1.0
  // An all-zero block gets d = 0, like llama.cpp's per-block absmax.
  const std::vector<int8_t> z(256, 0);
  const auto bz = encode_tq1_0(z.data(), 1, 256, 1.0f);
  EXPECT_EQ(bz[52] | bz[53] << 8, 0);
}

TEST(TensorCodec, TqRandomRoundTripAndMixedScalesRejected) {
  std::mt19937 rng(5);
  std::vector<int8_t> v(4 * 512);
  for (auto& x : v) x = int8_t(int(rng() % 3) - 1);
  for (bool tq2 : {true, false}) {
    auto b = tq2 ? encode_tq2_0(v.data(), 4, 512, 0.75f) : encode_tq1_0(v.data(), 4, 512, 0.75f);
    const TensorType type = tq2 ? TensorType::TQ2_0 : TensorType::TQ1_0;
    const TernaryWeights w = decode_ternary(info("t", {512, 4}, type, b), nullptr);
    EXPECT_EQ(w.values, v);
    EXPECT_EQ(w.scale, 0.75f);
    const size_t bb = tq2 ? 66 : 54;
    b[bb * 3 + bb - 1] ^= 0x01;  // change block 3's d
    EXPECT_THAT([&] { decode_ternary(info("t", {512, 4}, type, b), nullptr); },
                ::testing::ThrowsMessage<Error>(::testing::HasSubstr("is not ternary with one scale: block 3")));
  }
}

TEST(TensorCodec, Q8_0MatchesGgmlReference) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // d = 1
  x[1] = -2.5f;   // roundf: away from zero -> -3
  x[2] = 0.5f;    // -> 1
  const auto b = encode_q8_0(x.data(), 32);
  ASSERT_EQ(b.size(), 34u);
  EXPECT_EQ(b[0] | b[1] << 8, 0x3c00);
  EXPECT_EQ(int8_t(b[2]), 127);
  EXPECT_EQ(int8_t(b[3]), -3);
  EXPECT_EQ(int8_t(b[4]), 1);
  const auto d = decode_to_f32(info("q", {32}, TensorType::Q8_0, b));
  EXPECT_EQ(d[1], -3.0f);
  EXPECT_THROW(encode_q8_0(x.data(), 31), Error);
}

TEST(TensorCodec, FloatTernaryDetection) {
  const auto good = f32_bytes({0.5f, -0.5f, 0.0f, 0.5f});
  const TernaryWeights w = decode_ternary(info("g", {4}, TensorType::F32, good), nullptr);
  EXPECT_EQ(w.values, (std::vector<int8_t>{1, -1, 0, 1}));
  EXPECT_EQ(w.scale, 0.5f);
  // A llama.cpp-style extra .scale tensor multiplies in.
  const auto sb = f32_bytes({4.0f});
  const TensorInfo sc = info("g.scale", {1}, TensorType::F32, sb);
  EXPECT_EQ(decode_ternary(info("g", {4}, TensorType::F32, good), &sc).scale, 2.0f);
  const auto bad = f32_bytes({0.5f, 0.25f, 0.0f, 0.5f});
  EXPECT_THAT([&] { decode_ternary(info("blk.0.ffn_down.weight", {4}, TensorType::F32, bad), nullptr); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("tensor 'blk.0.ffn_down.weight' is not ternary")));
  const auto f16 = encode_f16(std::vector<float>{0.1f, -0.1f, 0.0f, 0.1f}.data(), 4);
  const TernaryWeights h = decode_ternary(info("h", {4}, TensorType::F16, f16), nullptr);
  EXPECT_EQ(h.values, (std::vector<int8_t>{1, -1, 0, 1}));
  EXPECT_EQ(h.scale, f16_to_f32(f32_to_f16(0.1f)));
  EXPECT_THROW(decode_ternary(info("q", {32}, TensorType::Q8_0, std::vector<uint8_t>(34)), nullptr), Error);
}

TEST(TensorCodec, InconsistentInfosAndBadInputsThrow) {
  const std::vector<uint8_t> small(10);
  EXPECT_THAT([&] { decode_to_f32(info("s", {8}, TensorType::F32, small)); },
              ::testing::ThrowsMessage<Error>(::testing::HasSubstr("tensor 's': 10 bytes of data, its dims need 32")));
  const auto ok = f32_bytes({1, 2, 3, 4, 5, 6});
  std::vector<float> out(6);
  EXPECT_THROW(decode_rows_to_f32(info("r", {3, 2}, TensorType::F32, ok), 1, 2, out.data()), Error);
  decode_rows_to_f32(info("r", {3, 2}, TensorType::F32, ok), 1, 1, out.data());
  EXPECT_EQ(out[0], 4.0f);
  EXPECT_THROW(decode_to_f32(info("t", {96, 1}, TensorType::TL2, std::vector<uint8_t>(100))), Error);
  const std::vector<int8_t> two = {2, 0, 0, 0};
  EXPECT_THROW(encode_bt2(two.data(), 1, 4), Error);
  std::vector<int8_t> v(100, 0);
  EXPECT_THROW(encode_i2_s(v.data(), 1, 100, 1.0f), Error);     // not a multiple of 128
  EXPECT_THROW(encode_tq2_0(v.data(), 1, 100, 1.0f), Error);    // not a multiple of 256
  std::vector<int8_t> w(256, 0);
  EXPECT_THROW(encode_tq1_0(w.data(), 1, 256, -1.0f), Error);   // negative scale
  EXPECT_THROW(encode_tq1_0(w.data(), 1, 256, NAN), Error);
  const auto two_vals = f32_bytes({1, 2});
  EXPECT_THROW(read_scale_tensor(info("s", {2}, TensorType::F32, two_vals)), Error);
}

}  // namespace
}  // namespace bitnet
