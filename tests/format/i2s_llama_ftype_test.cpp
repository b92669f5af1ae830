// bitnet.cpp writes its I2_S Llama3-8B-1.58 files under architecture "llama" with
// general.file_type 40 (its LLAMA_FTYPE_MOSTLY_I2_S). Upstream llama.cpp has no ftype 40 and
// never writes type id 36, so id 36 is I2_S exactly when both say so; otherwise it stays refused.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "format/gguf.h"
#include "format/tensor_codec.h"
#include "util/error.h"

namespace bitnet {
namespace {

std::vector<uint8_t> i2s_file(const std::string& arch, int64_t file_type) {
  std::vector<int8_t> codes(256);
  for (size_t i = 0; i < codes.size(); ++i) codes[i] = int8_t(int(i % 3) - 1);
  const auto bytes = encode_i2_s(codes.data(), 2, 128, 0.5f);
  gguf::Writer w;
  w.set("general.architecture", gguf::Value::string(arch));
  if (file_type >= 0) w.set("general.file_type", gguf::Value::u32(uint32_t(file_type)));
  w.add_tensor_copy("blk.0.attn_q.weight", {128, 2}, TensorType::I2_S, bytes.data(), bytes.size());
  return w.write_to_memory();
}

TEST(I2sUnderLlama, AcceptedWithBitnetCppI2sFileType) {
  const auto img = i2s_file("llama", 40);
  auto f = gguf::File::from_memory(img.data(), img.size(), "llama-i2s.gguf");
  const gguf::TensorInfo* t = f->find_tensor("blk.0.attn_q.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->gguf_type, kBitnetCppI2_S);
  EXPECT_EQ(t->type, TensorType::I2_S);
  const TernaryWeights w = decode_ternary(*t, nullptr);
  EXPECT_EQ(w.scale, 0.5f);
  for (size_t i = 0; i < w.values.size(); ++i) EXPECT_EQ(w.values[i], int(i % 3) - 1) << i;
}

TEST(I2sUnderLlama, RefusedWithOtherOrMissingFileType) {
  for (int64_t ft : {-1, 0, 1, 36, 37, 39}) {
    const auto img = i2s_file("llama", ft);
    try {
      gguf::File::from_memory(img.data(), img.size(), "llama-36.gguf");
      ADD_FAILURE() << "file_type " << ft << " accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("type id 36 is i2_s in bitnet.cpp files"), std::string::npos) << e.what();
    }
  }
}

TEST(I2sUnderLlama, FileTypeDoesNotMatterForBitnetCppArchitectures) {
  for (const char* arch : {"bitnet-b1.58", "bitnet-25", "bitnet"}) {
    const auto img = i2s_file(arch, -1);
    auto f = gguf::File::from_memory(img.data(), img.size(), "ok.gguf");
    EXPECT_EQ(f->tensors()[0].type, TensorType::I2_S) << arch;
  }
}

}  // namespace
}  // namespace bitnet
