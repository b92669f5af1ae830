// Handcrafted malformed GGUF images: each must be rejected with bitnet::Error, a message of the form
// "<name>: at byte <offset>: ..." and the expected description.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>

#include "format/gguf.h"
#include "gguf_test_util.h"
#include "util/error.h"

namespace bitnet::gguf {
namespace {

using testing::Bytes;

struct Case {
  std::string name;
  Bytes bytes;
  std::string expected;  // substring of the message (may include "at byte N: ")
};

// A file with one F32 tensor "w" of dims {8}, architecture `arch`, optional extra KVs before it.
Bytes one_tensor_file(uint32_t type, std::vector<uint64_t> dims, uint64_t offset, size_t data_bytes,
                      const std::string& arch = "bitnet-b1.58") {
  Bytes b;
  b.header(1, 1).kv_str("general.architecture", arch).tensor("w", dims, type, offset).pad_to(32).zeros(data_bytes);
  return b;
}

std::vector<Case> cases() {
  std::vector<Case> c;
  const uint64_t huge = uint64_t(1) << 60;
  c.push_back({"BadMagic", Bytes().raw("GGML").u32(3).u64(0).u64(0), "at byte 0: not a GGUF file (magic bytes 47 47 4d 4c"});
  c.push_back({"TooSmall", Bytes().raw("GG"), "at byte 0: file is too small to be a GGUF file (2 bytes)"});
  c.push_back({"Empty", Bytes(), "file is too small"});
  c.push_back({"Version1", Bytes().raw("GGUF").u32(1).u32(0).u32(0), "at byte 4: GGUF version 1 is not supported"});
  c.push_back({"Version4", Bytes().header(0, 0, 4), "at byte 4: unsupported GGUF version 4"});
  c.push_back({"BigEndian", Bytes().header(0, 0, 0x03000000), "big-endian GGUF files are not supported"});
  c.push_back({"TruncatedHeader", Bytes().raw("GGUF").u32(3).u32(0),
               "at byte 8: unexpected end of file reading the tensor count"});
  c.push_back({"AbsurdKvCount", Bytes().header(0, huge), "at byte 16: metadata count 1152921504606846976 exceeds"});
  c.push_back({"AbsurdTensorCount", Bytes().header(huge, 0), "at byte 8: tensor count 1152921504606846976 exceeds"});
  c.push_back({"KvCountOverflow", Bytes().header(0, ~uint64_t(0)), "metadata count 18446744073709551615 exceeds"});
  c.push_back({"OversizeKeyLength", Bytes().header(0, 1).u64(uint64_t(1) << 63).zeros(8),
               "at byte 24: a metadata key length 9223372036854775808 exceeds"});
  c.push_back({"StringPastEof", Bytes().header(0, 1).str("k").u32(8).u64(100).raw("short"),
               "at byte 37: string value of key 'k' length 100 exceeds the 5 bytes left"});
  c.push_back({"BadValueType", Bytes().header(0, 1).str("k").u32(13).u32(0), "at byte 33: key 'k': invalid value type 13"});
  c.push_back({"BadArrayElemType", Bytes().header(0, 1).str("k").u32(9).u32(77).u64(1).u32(0),
               "at byte 37: key 'k': invalid array element type 77"});
  c.push_back({"ArrayCountTooLarge", Bytes().header(0, 1).str("k").u32(9).u32(4).u64(1000000).u32(1).u32(2),
               "key 'k': array of 1000000 u32 elements cannot fit in the 8 bytes left"});
  c.push_back({"StringArrayCountOverflow", Bytes().header(0, 1).str("k").u32(9).u32(8).u64(~uint64_t(0) / 4),
               "array of 4611686018427387903 string elements cannot fit"});
  {
    Bytes b;
    b.header(0, 1).str("deep").u32(9);
    for (int i = 0; i < 100; ++i) b.u32(9).u64(1);
    b.u32(4).u64(0);
    c.push_back({"NestedDepthBomb", b, "key 'deep': arrays nested more than 8 levels deep"});
  }
  c.push_back({"Bool2", Bytes().header(0, 1).str("k").u32(7).u8(2), "at byte 37: key 'k': bool value 2 (must be 0 or 1)"});
  c.push_back({"BoolInArray", Bytes().header(0, 1).str("k").u32(9).u32(7).u64(3).u8(1).u8(0).u8(255),
               "at byte 51: key 'k': bool value 255"});
  c.push_back({"DuplicateKey", Bytes().header(0, 2).kv_u32("a.b", 1).kv_u32("a.b", 2),
               "at byte 43: duplicate metadata key 'a.b'"});
  c.push_back({"EmptyKey", Bytes().header(0, 1).kv_u32("", 1), "at byte 24: metadata key 0 is empty"});
  c.push_back({"TruncatedValue", Bytes().header(0, 1).str("k").u32(10).u32(0),
               "at byte 37: unexpected end of file reading a u64 value (needs 8 bytes, 4 left)"});
  c.push_back({"AlignmentZero", Bytes().header(0, 1).kv_u32("general.alignment", 0),
               "at byte 24: general.alignment 0 is not a power of two"});
  c.push_back({"AlignmentThree", Bytes().header(0, 1).kv_u32("general.alignment", 3),
               "general.alignment 3 is not a power of two"});
  c.push_back({"AlignmentWrongType", Bytes().header(0, 1).str("general.alignment").u32(10).u64(32),
               "general.alignment has type u64, expected u32"});
  c.push_back({"ArchitectureWrongType", Bytes().header(0, 1).kv_u32("general.architecture", 1),
               "general.architecture has type u32, expected string"});
  {
    Bytes b;
    b.header(2, 0).tensor("w", {8}, 0, 0).tensor("w", {8}, 0, 32).pad_to(32).zeros(64);
    c.push_back({"DuplicateTensor", b, "at byte 57: duplicate tensor name 'w'"});
  }
  c.push_back({"EmptyTensorName", Bytes().header(1, 0).tensor("", {8}, 0, 0).pad_to(32).zeros(32),
               "at byte 24: tensor 0 has an empty name"});
  c.push_back({"NDims5", one_tensor_file(0, {1, 1, 1, 1, 1}, 0, 32), "tensor 'w': n_dims 5 (must be 1..4)"});
  c.push_back({"NDims0", one_tensor_file(0, {}, 0, 32), "tensor 'w': n_dims 0 (must be 1..4)"});
  c.push_back({"Dim0", one_tensor_file(0, {8, 0}, 0, 32), "tensor 'w': dimension 1 is 0"});
  c.push_back({"DimsProductOverflow", one_tensor_file(0, {uint64_t(1) << 32, uint64_t(1) << 32}, 0, 32),
               "tensor 'w': element count of dims [4294967296, 4294967296]... overflows"});
  c.push_back({"BytesOverflow", one_tensor_file(0, {uint64_t(1) << 62}, 0, 32), "tensor 'w': byte size of dims"});
  c.push_back({"UnknownTensorType", one_tensor_file(13, {8}, 0, 32),
               "tensor 'w': unknown or unsupported tensor type id 13 (q5_K)"});
  c.push_back({"TensorTypeHuge", one_tensor_file(100000, {8}, 0, 32), "unsupported tensor type id 100000 (unknown)"});
  c.push_back({"I2sIdInUpstreamArch", one_tensor_file(36, {128}, 0, 64, "llama"),
               "tensor 'w': type id 36 is i2_s in bitnet.cpp files"});
  c.push_back({"Q8BlockMismatch", one_tensor_file(8, {33}, 0, 64),
               "tensor 'w': dimension 0 (33) is not a multiple of the q8_0 block size 32"});
  c.push_back({"I2sNotMultipleOf128", one_tensor_file(36, {64, 3}, 0, 128),
               "tensor 'w': i2_s needs an element count that is a multiple of 128"});
  c.push_back({"UnalignedOffset", one_tensor_file(0, {8}, 4, 64),
               "tensor 'w': data offset 4 is not a multiple of the alignment 32"});
  c.push_back({"OffsetPastEnd", one_tensor_file(0, {8}, 4096, 32), "at byte 76: tensor 'w' data [4224, 4256) extends past the end of the file (size 160)"});
  c.push_back({"OffsetOverflow", one_tensor_file(0, {8}, ~uint64_t(31), 32), "extends past the end of the file"});
  c.push_back({"TruncatedData", one_tensor_file(0, {16}, 0, 32), "at byte 76: tensor 'w' data [128, 192) extends past the end of the file (size 160)"});
  {
    Bytes b;
    b.header(2, 0).tensor("a", {16}, 0, 0).tensor("b", {8}, 0, 32).pad_to(32).zeros(128);
    c.push_back({"OverlappingTensors", b, "tensor 'b' data [128, 160) overlaps tensor 'a' [96, 160)"});
  }
  c.push_back({"TruncatedTensorInfo", Bytes().header(1, 0).str(std::string(20, 'n')).u32(2).u64(8),
               "unexpected end of file reading a tensor dimension"});
  {
    // The counts pass the first bound (they fit in the file) but the metadata eats the space.
    Bytes b;
    b.header(3, 1).kv_str("k", std::string(100, 'x')).zeros(20);
    c.push_back({"TensorCountAfterMetadata", b, "tensor count 3 exceeds what the rest of the file can hold"});
  }
  return c;
}

class Malformed : public ::testing::TestWithParam<Case> {};

TEST_P(Malformed, IsRejectedWithMessage) {
  const Case& c = GetParam();
  try {
    File::from_memory(c.bytes.data().data(), c.bytes.size(), "bad.gguf");
    FAIL() << "accepted a malformed file";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::StartsWith("bad.gguf: at byte "));
    EXPECT_THAT(e.what(), ::testing::HasSubstr(c.expected));
  }
}

INSTANTIATE_TEST_SUITE_P(Corpus, Malformed, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

TEST(MalformedCorpus, HasEnoughCases) { EXPECT_GE(cases().size(), 20u); }

// The one-tensor builder above yields a valid file when nothing is wrong (so the cases fail for the
// reason they claim, not for a mistake in the builder).
TEST(MalformedCorpus, BuilderBaselineIsValid) {
  const Bytes b = one_tensor_file(0, {8}, 0, 32);
  auto f = File::from_memory(b.data().data(), b.size(), "ok.gguf");
  ASSERT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(f->tensors()[0].nbytes, 32u);
  EXPECT_EQ(f->data_offset(), 128u);
  Bytes two;
  two.header(2, 0).tensor("a", {8}, 0, 0).tensor("b", {8}, 0, 32).pad_to(32).zeros(64);
  EXPECT_EQ(File::from_memory(two.data().data(), two.size(), "ok.gguf")->tensors().size(), 2u);
  const Bytes i2s = one_tensor_file(36, {128}, 0, 64, "bitnet");
  EXPECT_EQ(File::from_memory(i2s.data().data(), i2s.size(), "ok.gguf")->tensors()[0].type, TensorType::I2_S);
  Bytes v2;
  v2.header(0, 1, 2).kv_u32("general.alignment", 8);
  auto f2 = File::from_memory(v2.data().data(), v2.size(), "ok.gguf");
  EXPECT_EQ(f2->version(), 2u);
  EXPECT_EQ(f2->alignment(), 8u);
  Bytes deep;  // exactly at the depth limit
  deep.header(0, 1).str("deep").u32(9);
  for (int i = 0; i < 7; ++i) deep.u32(9).u64(1);
  deep.u32(4).u64(0);
  EXPECT_EQ(File::from_memory(deep.data().data(), deep.size(), "ok.gguf")->get("deep").size(), 1u);
}

TEST(MalformedFile, MissingFileNamesPath) {
  try {
    File::open("/nonexistent/dir/model.gguf");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("/nonexistent/dir/model.gguf: cannot open"));
  }
}

TEST(MalformedFile, Tl2SizeIsBoundedByTheNextTensor) {
  Bytes b;
  b.header(2, 1).kv_str("general.architecture", "bitnet").tensor("t", {96, 32}, 39, 0).tensor("n", {8}, 0, 1024);
  b.pad_to(32).zeros(1024 + 32);
  auto f = File::from_memory(b.data().data(), b.size(), "tl2.gguf");
  EXPECT_EQ(f->find_tensor("t")->type, TensorType::TL2);
  EXPECT_EQ(f->find_tensor("t")->nbytes, 1024u);
  // TL2 under an upstream architecture is MXFP4, which we do not read.
  Bytes up;
  up.header(1, 1).kv_str("general.architecture", "llama").tensor("t", {32}, 39, 0).pad_to(32).zeros(32);
  EXPECT_THROW(File::from_memory(up.data().data(), up.size(), "mxfp4.gguf"), Error);
}

}  // namespace
}  // namespace bitnet::gguf
