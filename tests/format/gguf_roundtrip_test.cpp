// Writer -> reader round trips: every metadata value type (including nested arrays) and every
// tensor type libbitnet can encode, through memory and through a real file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <random>

#include "format/gguf.h"
#include "format/half.h"
#include "format/tensor_codec.h"
#include "util/error.h"

namespace bitnet::gguf {
namespace {

std::vector<std::pair<std::string, Value>> all_value_kinds() {
  std::vector<std::pair<std::string, Value>> kv;
  kv.emplace_back("general.architecture", Value::string("bitnet-b1.58"));
  kv.emplace_back("t.u8", Value::u8(255));
  kv.emplace_back("t.i8", Value::i8(-128));
  kv.emplace_back("t.u16", Value::u16(65535));
  kv.emplace_back("t.i16", Value::i16(-32768));
  kv.emplace_back("t.u32", Value::u32(4000000000u));
  kv.emplace_back("t.i32", Value::i32(std::numeric_limits<int32_t>::min()));
  kv.emplace_back("t.u64", Value::u64(std::numeric_limits<uint64_t>::max()));
  kv.emplace_back("t.i64", Value::i64(std::numeric_limits<int64_t>::min()));
  kv.emplace_back("t.f32", Value::f32(-1.5e-39f));  // subnormal
  kv.emplace_back("t.f32nan", Value::f32(std::numeric_limits<float>::quiet_NaN()));
  kv.emplace_back("t.f64", Value::f64(-0.0));
  kv.emplace_back("t.f64pi", Value::f64(3.141592653589793));
  kv.emplace_back("t.bool.true", Value::boolean(true));
  kv.emplace_back("t.bool.false", Value::boolean(false));
  kv.emplace_back("t.str", Value::string(std::string("nul\0inside \xe2\x96\x81 utf8", 19)));
  kv.emplace_back("t.str.empty", Value::string(""));
  kv.emplace_back("t.arr.u8", Value::array(ValueType::U8, {Value::u8(0), Value::u8(7), Value::u8(255)}));
  kv.emplace_back("t.arr.i8", Value::array(ValueType::I8, {Value::i8(-1), Value::i8(127)}));
  kv.emplace_back("t.arr.u16", Value::array(ValueType::U16, {Value::u16(1)}));
  kv.emplace_back("t.arr.i16", Value::array(ValueType::I16, {Value::i16(-2), Value::i16(3)}));
  kv.emplace_back("t.arr.u32", Value::array(ValueType::U32, {Value::u32(9)}));
  kv.emplace_back("t.arr.i32", Value::i32_array({-5, 0, 5, std::numeric_limits<int32_t>::max()}));
  kv.emplace_back("t.arr.u64", Value::array(ValueType::U64, {Value::u64(1ull << 63)}));
  kv.emplace_back("t.arr.i64", Value::array(ValueType::I64, {Value::i64(-(1ll << 62))}));
  kv.emplace_back("t.arr.f32", Value::f32_array({0.5f, -1000.0f, std::numeric_limits<float>::infinity()}));
  kv.emplace_back("t.arr.f64", Value::array(ValueType::F64, {Value::f64(1e300), Value::f64(-1e-300)}));
  kv.emplace_back("t.arr.bool", Value::array(ValueType::BOOL, {Value::boolean(true), Value::boolean(false)}));
  kv.emplace_back("t.arr.str", Value::string_array({"a", "", "\xc4\xa0the", std::string(300, 'z')}));
  kv.emplace_back("t.arr.empty.str", Value::string_array({}));
  kv.emplace_back("t.arr.empty.arr", Value::array(ValueType::ARRAY, {}));
  kv.emplace_back("t.arr.arr.str",
                  Value::array(ValueType::ARRAY, {Value::string_array({"x", "y"}), Value::string_array({}),
                                                  Value::string_array({"z"})}));
  kv.emplace_back("t.arr.arr.mixed",
                  Value::array(ValueType::ARRAY, {Value::i32_array({1, 2}), Value::f32_array({3.0f}),
                                                  Value::array(ValueType::BOOL, {Value::boolean(true)})}));
  kv.emplace_back("t.arr.arr.arr.i32",
                  Value::array(ValueType::ARRAY,
                               {Value::array(ValueType::ARRAY, {Value::i32_array({1}), Value::i32_array({2, 3})}),
                                Value::array(ValueType::ARRAY, {})}));
  return kv;
}

void expect_same_metadata(const File& f, const std::vector<std::pair<std::string, Value>>& kv) {
  ASSERT_EQ(f.metadata().size(), kv.size());
  for (size_t i = 0; i < kv.size(); ++i) {
    EXPECT_EQ(f.metadata()[i].first, kv[i].first);
    EXPECT_TRUE(f.metadata()[i].second == kv[i].second)
        << kv[i].first << ": " << f.metadata()[i].second.to_display() << " vs " << kv[i].second.to_display();
  }
}

TEST(GgufRoundTrip, EveryValueTypeInMemory) {
  Writer w;
  const auto kv = all_value_kinds();
  for (const auto& [k, v] : kv) w.set(k, v);
  const auto bytes = w.write_to_memory();
  auto f = File::from_memory(bytes.data(), bytes.size(), "mem.gguf");
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_TRUE(f->tensors().empty());
  expect_same_metadata(*f, kv);
  // Spot checks through the typed accessors.
  EXPECT_EQ(f->get_u64("t.u64", 0), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(f->get("t.i64").as_i64(), std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(std::isnan(f->get("t.f32nan").as_f64()));
  EXPECT_TRUE(std::signbit(f->get_f64("t.f64", 1.0)));
  EXPECT_EQ(f->get("t.str").as_string().size(), 19u);
  EXPECT_EQ(f->get("t.arr.str").as_strings()[3], std::string(300, 'z'));
  EXPECT_EQ(f->get("t.arr.arr.str").at(2).as_strings(), std::vector<std::string>{"z"});
  EXPECT_EQ(f->get("t.arr.arr.arr.i32").at(0).at(1).as_i32s(), (std::vector<int32_t>{2, 3}));
  EXPECT_EQ(f->get("t.arr.arr.mixed").at(1).array_type(), ValueType::F32);
  EXPECT_EQ(f->get("t.arr.bool").at(0).as_bool(), true);
  EXPECT_EQ(f->get("t.arr.u8").at(2).as_u64(), 255u);
  EXPECT_EQ(f->get("t.arr.str").at(2).as_string(), "\xc4\xa0the");
}

TEST(GgufRoundTrip, EveryValueTypeThroughAFileWithAlignment64) {
  const auto dir = std::filesystem::temp_directory_path() / ("bitnet_format_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "rt.gguf").string();
  Writer w(64);
  const auto kv = all_value_kinds();
  for (const auto& [k, v] : kv) w.set(k, v);
  const std::vector<float> a = {1, 2, 3};
  w.add_tensor_copy("a", {3}, TensorType::F32, a.data(), 12);
  w.add_tensor_copy("b", {3}, TensorType::F32, a.data(), 12);
  std::vector<std::pair<size_t, size_t>> progress;
  w.write(path, [&](size_t done, size_t total) { progress.emplace_back(done, total); });
  EXPECT_EQ(progress, (std::vector<std::pair<size_t, size_t>>{{1, 2}, {2, 2}}));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  auto f = File::open(path);
  EXPECT_EQ(f->alignment(), 64u);
  EXPECT_EQ(f->metadata()[0].first, "general.alignment");  // added by the writer
  auto meta = f->metadata();
  meta.erase(meta.begin());
  ASSERT_EQ(meta.size(), kv.size());
  for (size_t i = 0; i < kv.size(); ++i) EXPECT_TRUE(meta[i].second == kv[i].second) << kv[i].first;
  EXPECT_EQ(f->data_offset() % 64, 0u);
  for (const auto& t : f->tensors()) {
    EXPECT_EQ(t.offset % 64, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % 64, 0u);
    EXPECT_EQ(decode_to_f32(t), a);
  }
  EXPECT_EQ(f->find_tensor("b")->offset, 64u);
  EXPECT_EQ(f->file_size(), f->data_offset() + 64 + 64);
  f.reset();
  std::filesystem::remove_all(dir);
}

TEST(GgufRoundTrip, SetReplacesAndValidatesAlignmentKey) {
  Writer w;
  w.set("k", Value::u32(1));
  w.set("k", Value::string("two"));
  EXPECT_THROW(w.set("general.alignment", Value::u32(64)), Error);
  EXPECT_THROW(w.set("general.alignment", Value::u64(32)), Error);
  w.set("general.alignment", Value::u32(32));
  const auto bytes = w.write_to_memory();
  auto f = File::from_memory(bytes.data(), bytes.size(), "m");
  ASSERT_EQ(f->metadata().size(), 2u);
  EXPECT_EQ(f->get_string("k", ""), "two");
  EXPECT_THROW(Writer(48), Error);
}

TEST(GgufRoundTrip, WriterRejectsBadTensors) {
  Writer w;
  const float x[32] = {};
  w.add_tensor_copy("x", {32}, TensorType::F32, x, 128);
  EXPECT_THROW(w.add_tensor_copy("x", {32}, TensorType::F32, x, 128), Error);            // duplicate
  EXPECT_THROW(w.add_tensor_copy(std::string(64, 'n'), {32}, TensorType::F32, x, 128), Error);  // name
  EXPECT_THROW(w.add_tensor_copy("y", {32}, TensorType::F32, x, 64), Error);             // size
  EXPECT_THROW(w.add_tensor("z", {33}, TensorType::Q8_0, [](uint8_t*, uint64_t) {}), Error);  // block
  EXPECT_THROW(w.add_tensor("z", {96, 32}, TensorType::TL2, [](uint8_t*, uint64_t) {}), Error);
  EXPECT_THROW(w.add_tensor("z", {1, 1, 1, 1, 1}, TensorType::F32, [](uint8_t*, uint64_t) {}), Error);
  EXPECT_THROW(w.add_tensor("z", {0}, TensorType::F32, [](uint8_t*, uint64_t) {}), Error);
  EXPECT_EQ(w.tensor_count(), 1u);
}

// Deterministic ternary values with all three codes.
std::vector<int8_t> ternary(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = int8_t(int(rng() % 3) - 1);
  return v;
}

TEST(GgufRoundTrip, EveryEncodableTensorType) {
  const int64_t rows = 6, cols = 256;  // cols: a TQ block; rows*cols: a multiple of 128 for I2_S
  const auto tv = ternary(rows * cols, 1);
  const float alpha = 0.0123f;
  std::vector<float> dense(rows * cols);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.0f, 0.5f);
  for (auto& x : dense) x = nd(rng);
  const std::vector<int8_t> bt2_vals = ternary(5 * 7, 3);  // K = 7: padded rows

  Writer w;
  w.set("general.architecture", Value::string("bitnet-b1.58"));
  const std::vector<uint64_t> dims = {uint64_t(cols), uint64_t(rows)};
  w.add_tensor_copy("f32", dims, TensorType::F32, dense.data(), dense.size() * 4);
  auto f16 = encode_f16(dense.data(), dense.size());
  auto bf16 = encode_bf16(dense.data(), dense.size());
  auto q8 = encode_q8_0(dense.data(), dense.size());
  auto i2s = encode_i2_s(tv.data(), rows, cols, alpha);
  auto tq1 = encode_tq1_0(tv.data(), rows, cols, alpha);
  auto tq2 = encode_tq2_0(tv.data(), rows, cols, alpha);
  auto bt2 = encode_bt2(bt2_vals.data(), 5, 7);
  w.add_tensor_copy("f16", dims, TensorType::F16, f16.data(), f16.size());
  w.add_tensor_copy("bf16", dims, TensorType::BF16, bf16.data(), bf16.size());
  w.add_tensor_copy("q8_0", dims, TensorType::Q8_0, q8.data(), q8.size());
  w.add_tensor_copy("i2_s", dims, TensorType::I2_S, i2s.data(), i2s.size());
  w.add_tensor_copy("tq1_0", dims, TensorType::TQ1_0, tq1.data(), tq1.size());
  w.add_tensor_copy("tq2_0", dims, TensorType::TQ2_0, tq2.data(), tq2.size());
  w.add_tensor_copy("blk.0.attn_q.weight", {7, 5}, TensorType::BT2, bt2.data(), bt2.size());
  w.add_tensor_copy("blk.0.attn_q.scale", {1}, TensorType::F32, &alpha, 4);
  const auto bytes = w.write_to_memory();
  auto f = File::from_memory(bytes.data(), bytes.size(), "types.gguf");
  ASSERT_EQ(f->tensors().size(), 9u);

  EXPECT_EQ(decode_to_f32(*f->find_tensor("f32")), dense);
  const auto h = decode_to_f32(*f->find_tensor("f16"));
  const auto b = decode_to_f32(*f->find_tensor("bf16"));
  const auto q = decode_to_f32(*f->find_tensor("q8_0"));
  for (size_t i = 0; i < dense.size(); ++i) {
    ASSERT_EQ(h[i], f16_to_f32(f32_to_f16(dense[i])));
    ASSERT_EQ(b[i], bf16_to_f32(f32_to_bf16(dense[i])));
    ASSERT_NEAR(q[i], dense[i], 0.5f * 4.0f / 127);  // half a step of the largest block scale
  }
  for (const char* name : {"i2_s", "tq1_0", "tq2_0"}) {
    SCOPED_TRACE(name);
    const TensorInfo* t = f->find_tensor(name);
    const TernaryWeights tw = decode_ternary(*t, nullptr);
    EXPECT_EQ(tw.rows, rows);
    EXPECT_EQ(tw.cols, cols);
    EXPECT_EQ(tw.values, tv);
    const float expected_scale = t->type == TensorType::I2_S ? alpha : f16_to_f32(f32_to_f16(alpha));
    EXPECT_EQ(tw.scale, expected_scale);
    const auto d = decode_to_f32(*t);
    for (size_t i = 0; i < d.size(); ++i) ASSERT_EQ(d[i], float(tv[i]) * expected_scale);
  }
  const TensorInfo* wq = f->find_tensor("blk.0.attn_q.weight");
  EXPECT_EQ(wq->type, TensorType::BT2);
  EXPECT_EQ(wq->gguf_type, kLibbitnetBT2);
  EXPECT_EQ(wq->nbytes, 10u);
  const TensorInfo* sc = f->find_tensor(scale_tensor_name(wq->name));
  ASSERT_NE(sc, nullptr);
  const TernaryWeights tw = decode_ternary(*wq, sc);
  EXPECT_EQ(tw.values, bt2_vals);
  EXPECT_EQ(tw.scale, alpha);
  EXPECT_THROW(decode_ternary(*wq, nullptr), Error);
  const auto d = decode_to_f32(*wq, sc);
  for (size_t i = 0; i < d.size(); ++i) ASSERT_EQ(d[i], float(bt2_vals[i]) * alpha);
}

TEST(GgufValue, AccessorsCheckTypes) {
  EXPECT_EQ(Value().type(), ValueType::U8);
  EXPECT_EQ(Value().as_u64(), 0u);
  EXPECT_THROW(Value::i32(-1).as_u64(), Error);
  EXPECT_EQ(Value::i32(-1).as_i64(), -1);
  EXPECT_THROW(Value::u64(~0ull).as_i64(), Error);
  EXPECT_EQ(Value::u16(7).as_f64(), 7.0);
  EXPECT_THROW(Value::string("x").as_f64(), Error);
  EXPECT_THROW(Value::u8(1).as_bool(), Error);
  EXPECT_THROW(Value::u8(1).as_string(), Error);
  EXPECT_THROW(Value::u8(1).size(), Error);
  EXPECT_THROW(Value::string_array({"a"}).at(1), Error);
  EXPECT_THROW(Value::string_array({"a"}).as_f32s(), Error);
  EXPECT_THROW(Value::array(ValueType::U64, {Value::u64(1ull << 40)}).as_i32s(), Error);
  EXPECT_EQ(Value::array(ValueType::U8, {Value::u8(200)}).as_i32s(), std::vector<int32_t>{200});
  EXPECT_EQ(Value::i32_array({1, -2}).as_f32s(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_THROW(Value::array(ValueType::U8, {Value::u8(1), Value::i8(1)}), Error);
  EXPECT_TRUE(Value::i64(1).is_integer());
  EXPECT_FALSE(Value::boolean(true).is_integer());
  EXPECT_TRUE(Value::f64(1).is_float());
  EXPECT_FALSE(Value::u32(1) == Value::i32(1));
  EXPECT_FALSE(Value::f32_array({1, 2}) == Value::f32_array({1, 3}));
}

TEST(GgufValue, DisplayAbbreviatesArraysAndEscapesStrings) {
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i) many.push_back("t" + std::to_string(i));
  const Value v = Value::string_array(many);
  EXPECT_EQ(v.to_display(3), "[\"t0\", \"t1\", \"t2\", ... 97 more]");
  // Everything: 10 quoted "tN" (4 chars) + 90 quoted "tNN" (5 chars) + 99 ", " + the brackets.
  EXPECT_EQ(v.to_display(SIZE_MAX).size(), 10u * 4 + 90 * 5 + 99 * 2 + 2);
  EXPECT_EQ(Value::string("a\"b\n\x01").to_display(), "\"a\\\"b\\n\\x01\"");
  EXPECT_EQ(Value::boolean(false).to_display(), "false");
  EXPECT_EQ(Value::f32(0.1f).to_display(), "0.1");
  EXPECT_EQ(Value::i8(-3).to_display(), "-3");
  EXPECT_EQ(Value::array(ValueType::ARRAY, {Value::i32_array({1, 2, 3})}).to_display(2), "[[1, 2, ... 1 more]]");
  EXPECT_THAT(Value::string(std::string(1000, 'x')).to_display(2), ::testing::EndsWith("\"... (1000 bytes)"));
  EXPECT_EQ(value_type_name(ValueType::F64), "f64");
}

}  // namespace
}  // namespace bitnet::gguf
