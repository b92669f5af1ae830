// The safetensors reader: fixture files, dtype conversion, sharded checkpoints and malformed files.
// (Lives with the converter tests: the converter is the reader's only user.)
#include "format/safetensors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "convert/test_helpers.h"
#include "format/half.h"

namespace bitnet::test {
namespace {

using safetensors::Checkpoint;
using safetensors::DType;
using safetensors::File;

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

TEST(Safetensors, ReadsPackedFixture) {
  auto f = File::open((fixture_dir("hf-packed") / "model.safetensors").string());
  EXPECT_EQ(f->tensors().size(), 38u);  // 2 x (7 packed + 7 scales + 4 norms) + embeddings + norm
  const auto* emb = f->find("model.embed_tokens.weight");
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(emb->dtype, DType::BF16);
  EXPECT_EQ(emb->shape, (std::vector<uint64_t>{4096, 64}));
  EXPECT_EQ(emb->nbytes, 4096u * 64 * 2);
  const auto* q = f->find("model.layers.0.self_attn.q_proj.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->dtype, DType::U8);
  EXPECT_EQ(q->shape, (std::vector<uint64_t>{16, 64}));
  EXPECT_EQ(f->metadata().at("format"), "pt");
  EXPECT_EQ(f->find("nope"), nullptr);
}

TEST(Safetensors, ConvertsFloatDtypes) {
  TempDir tmp;
  const std::vector<float> vals = {1.0f, -2.5f, 0.0f, 65504.0f, 1e-7f, -0.333251953125f};
  std::vector<uint8_t> f16, bf16;
  for (float v : vals) {
    const uint16_t h = f32_to_f16(v), b = f32_to_bf16(v);
    f16.insert(f16.end(), {uint8_t(h & 0xff), uint8_t(h >> 8)});
    bf16.insert(bf16.end(), {uint8_t(b & 0xff), uint8_t(b >> 8)});
  }
  write_safetensors(tmp / "m.safetensors", {{"a", "F32", {2, 3}, f32_bytes(vals)},
                                             {"b", "F16", {6}, f16},
                                             {"c", "BF16", {3, 2}, bf16},
                                             {"d", "I8", {6}, std::vector<uint8_t>(6, 1)}});
  auto f = File::open((tmp / "m.safetensors").string());
  std::vector<float> out(6);
  safetensors::to_f32(*f->find("a"), out.data());
  EXPECT_EQ(out, vals);
  safetensors::to_f32(*f->find("b"), out.data());
  for (size_t i = 0; i < vals.size(); ++i) EXPECT_EQ(out[i], f16_to_f32(f32_to_f16(vals[i])));
  safetensors::to_f32(*f->find("c"), out.data());
  for (size_t i = 0; i < vals.size(); ++i) EXPECT_EQ(out[i], bf16_to_f32(f32_to_bf16(vals[i])));
  // Partial range.
  std::vector<float> part(2);
  safetensors::to_f32(*f->find("a"), 3, 2, part.data());
  EXPECT_EQ(part, (std::vector<float>{vals[3], vals[4]}));
  expect_error([&] { safetensors::to_f32(*f->find("a"), 5, 2, part.data()); }, {"'a'", "outside"});
  expect_error([&] { safetensors::to_f32(*f->find("d"), out.data()); }, {"m.safetensors", "'d'", "I8"});
}

TEST(Safetensors, ZeroSizedTensorAndScalar) {
  TempDir tmp;
  write_safetensors(tmp / "m.safetensors", {{"empty", "F32", {0, 5}, {}}, {"scalar", "F32", {}, f32_bytes({3.0f})}});
  auto f = File::open((tmp / "m.safetensors").string());
  EXPECT_EQ(f->find("empty")->n_elements(), 0u);
  EXPECT_EQ(f->find("scalar")->n_elements(), 1u);
}

// Writes raw bytes: an 8-byte length followed by `header` and `data`.
void write_raw(const fs::path& p, const std::string& header, size_t data_bytes, int64_t length_override = -1) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  const uint64_t n = length_override >= 0 ? uint64_t(length_override) : header.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << header;
  out << std::string(data_bytes, '\0');
}

struct BadCase {
  const char* label;
  std::string header;
  size_t data_bytes;
  int64_t length_override;
  std::vector<std::string> expected;
};

TEST(Safetensors, RejectsMalformedFiles) {
  const std::vector<BadCase> cases = {
      {"tiny file", "", 0, 3, {"too small"}},  // written as 8 + 0 bytes, then truncated below
      {"length past end", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4, 4096, {"runs past the end"}},
      {"absurd length", "{}", 0, int64_t(1) << 40, {"implausible"}},
      {"not json", "{nope", 0, -1, {"not valid JSON"}},
      {"not an object", "[1,2]", 0, -1, {"not a JSON object"}},
      {"missing fields", R"({"a":{"dtype":"F32"}})", 0, -1, {"'a'", "data_offsets"}},
      {"unknown dtype", R"({"a":{"dtype":"F4","shape":[1],"data_offsets":[0,1]}})", 1, -1, {"'a'", "unknown dtype 'F4'"}},
      {"negative dim", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4, -1, {"'a'", "non-negative"}},
      {"shape overflow", R"({"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}})", 4, -1,
       {"'a'", "overflows"}},
      {"offsets reversed", R"({"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}})", 4, -1, {"'a'", "reversed"}},
      {"offsets past end", R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", 8, -1,
       {"'a'", "past the end of the data section", "truncated"}},
      {"size mismatch", R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, -1, {"'a'", "needs 12 bytes"}},
      {"overlap",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
       12, -1, {"overlap"}},
      {"bad offsets type", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4, -1, {"'a'", "two non-negative"}},
  };
  TempDir tmp;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.label);
    const fs::path p = tmp / "bad.safetensors";
    write_raw(p, c.header, c.data_bytes, c.length_override);
    if (std::string(c.label) == "tiny file") fs::resize_file(p, 5);
    std::vector<std::string> expected = c.expected;
    expected.push_back("bad.safetensors");
    expect_error([&] { File::open(p.string()); }, expected);
  }
}

TEST(Safetensors, TruncatedFixtureNamesTensorAndFile) {
  TempDir tmp;
  const fs::path p = tmp / "model.safetensors";
  fs::copy_file(fixture_dir("hf-packed") / "model.safetensors", p);
  fs::permissions(p, fs::perms::owner_write, fs::perm_options::add);
  fs::resize_file(p, fs::file_size(p) - 100);
  expect_error([&] { File::open(p.string()); }, {p.string(), "past the end", "truncated"});
}

TEST(Safetensors, ShardedCheckpoint) {
  TempDir tmp;
  write_safetensors(tmp / "model-00001-of-00002.safetensors", {{"x", "F32", {2}, f32_bytes({1, 2})}});
  write_safetensors(tmp / "model-00002-of-00002.safetensors",
                    {{"y", "F32", {1}, f32_bytes({3})}, {"z", "F32", {1}, f32_bytes({4})}});
  nlohmann::json index = {{"metadata", {{"total_size", 16}}},
                          {"weight_map",
                           {{"x", "model-00001-of-00002.safetensors"},
                            {"y", "model-00002-of-00002.safetensors"},
                            {"z", "model-00002-of-00002.safetensors"}}}};
  write_json(tmp / "model.safetensors.index.json", index);
  const auto ckpt = Checkpoint::open_dir(tmp.path().string());
  EXPECT_EQ(ckpt.file_count(), 2u);
  EXPECT_EQ(ckpt.names(), (std::vector<std::string>{"x", "y", "z"}));
  float v = 0;
  safetensors::to_f32(ckpt.get("z"), &v);
  EXPECT_EQ(v, 4.0f);
  expect_error([&] { ckpt.get("w"); }, {"no tensor 'w'"});

  // Index pointing at the wrong shard.
  index["weight_map"]["x"] = "model-00002-of-00002.safetensors";
  write_json(tmp / "model.safetensors.index.json", index);
  expect_error([&] { Checkpoint::open_dir(tmp.path().string()); }, {"'x'", "missing from"});
  // A missing shard.
  index["weight_map"]["x"] = "model-00003-of-00002.safetensors";
  write_json(tmp / "model.safetensors.index.json", index);
  expect_error([&] { Checkpoint::open_dir(tmp.path().string()); }, {"shard 'model-00003-of-00002.safetensors'", "does not exist"});
  // A tensor the index forgot.
  index["weight_map"]["x"] = "model-00001-of-00002.safetensors";
  index["weight_map"].erase("y");
  write_json(tmp / "model.safetensors.index.json", index);
  expect_error([&] { Checkpoint::open_dir(tmp.path().string()); }, {"'y'", "not listed in the index"});
}

TEST(Safetensors, DirectoryWithoutWeights) {
  TempDir tmp;
  expect_error([&] { Checkpoint::open_dir(tmp.path().string()); }, {"no model.safetensors"});
  write_safetensors(tmp / "a.safetensors", {});
  write_safetensors(tmp / "b.safetensors", {});
  expect_error([&] { Checkpoint::open_dir(tmp.path().string()); }, {"2 .safetensors files", "index"});
  fs::remove(tmp / "b.safetensors");
  EXPECT_EQ(Checkpoint::open_dir(tmp.path().string()).file_count(), 1u);  // a lone file of any name
}

}  // namespace
}  // namespace bitnet::test
