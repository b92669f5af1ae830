// Deterministic mutation testing of the reader and the decoders: thousands of corrupted variants of
// a valid file (bit flips, overwritten counts and lengths, truncations) must each either load or
// throw bitnet::Error; anything else (a crash, another exception type) fails the test. Under
// ASan/UBSan this also checks that no mutation reads out of bounds. The same entry point is the
// libFuzzer target in tests/fuzz/gguf_fuzz.cc.
#include <gtest/gtest.h>

#include <random>

#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "util/error.h"

namespace bitnet::gguf {
namespace {

std::vector<uint8_t> seed_file() {
  Writer w;
  w.set("general.architecture", Value::string("bitnet-b1.58"));
  w.set("a.u32", Value::u32(7));
  w.set("a.bool", Value::boolean(true));
  w.set("a.strs", Value::string_array({"x", "yy", "zzz"}));
  w.set("a.nested", Value::array(ValueType::ARRAY, {Value::i32_array({1, 2}), Value::i32_array({})}));
  std::vector<int8_t> t(256, 0);
  for (size_t i = 0; i < t.size(); ++i) t[i] = int8_t(int(i % 3) - 1);
  const auto i2s = encode_i2_s(t.data(), 2, 128, 0.5f);
  const auto bt2 = encode_bt2(t.data(), 2, 128);
  const auto tq2 = encode_tq2_0(t.data(), 1, 256, 0.5f);
  const float scale = 0.5f;
  w.add_tensor_copy("i2s.weight", {128, 2}, TensorType::I2_S, i2s.data(), i2s.size());
  w.add_tensor_copy("bt2.weight", {128, 2}, TensorType::BT2, bt2.data(), bt2.size());
  w.add_tensor_copy("bt2.scale", {1}, TensorType::F32, &scale, 4);
  w.add_tensor_copy("tq2.weight", {256}, TensorType::TQ2_0, tq2.data(), tq2.size());
  return w.write_to_memory();
}

// Returns true if the image loaded. Exercises every accessor a loader would use.
bool load_and_touch(const std::vector<uint8_t>& img) {
  try {
    auto f = File::from_memory(img.data(), img.size(), "fuzz.gguf");
    for (const auto& [k, v] : f->metadata()) (void)v.to_display(4);
    for (const auto& t : f->tensors()) {
      try {
        const TensorInfo* scale = f->find_tensor(scale_tensor_name(t.name));
        (void)decode_to_f32(t, t.type == TensorType::BT2 ? scale : nullptr);
        (void)decode_ternary(t, scale);
      } catch (const Error&) {
      }
    }
    return true;
  } catch (const Error&) {
    return false;
  }
}

TEST(GgufFuzzSmoke, SeedLoads) { EXPECT_TRUE(load_and_touch(seed_file())); }

TEST(GgufFuzzSmoke, MutationsLoadOrThrowError) {
  const auto seed = seed_file();
  std::mt19937_64 rng(12345);
  size_t loaded = 0, rejected = 0;
  const uint64_t interesting[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 31, 32, 33, 36, 39, 127, 128, 255, 4242,
                                  0x7fffffffull, 0xffffffffull, 1ull << 32, 1ull << 62, ~0ull, ~0ull / 2};
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> img = seed;
    const int kind = int(rng() % 4);
    const int n_mut = 1 + int(rng() % 3);
    for (int m = 0; m < n_mut; ++m) {
      const size_t pos = size_t(rng() % img.size());
      if (kind == 0) {
        img[pos] ^= uint8_t(1u << (rng() % 8));
      } else if (kind == 1) {
        const uint64_t v = interesting[rng() % std::size(interesting)];
        const size_t width = size_t(1) << (rng() % 4);  // 1, 2, 4 or 8 bytes
        for (size_t b = 0; b < width && pos + b < img.size(); ++b) img[pos + b] = uint8_t(v >> (8 * b));
      } else if (kind == 2) {
        img[pos] = uint8_t(rng());
      } else {
        img.resize(pos);
        break;
      }
    }
    (load_and_touch(img) ? loaded : rejected)++;
  }
  // Both outcomes must occur, or the mutations are not reaching the interesting code.
  EXPECT_GT(loaded, 100u);
  EXPECT_GT(rejected, 1000u);
}

}  // namespace
}  // namespace bitnet::gguf
