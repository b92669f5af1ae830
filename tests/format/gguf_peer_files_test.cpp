// The real files written by bitnet.cpp and llama.cpp (tests/data/peer-gguf, tests/data/tokenizer)
// open, and their metadata and tensors match what tests/data/peer-gguf/README.md documents.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <string>

#include "format/gguf.h"
#include "format/tensor_codec.h"

namespace bitnet::gguf {
namespace {

const std::string kPeer = std::string(BITNET_TEST_DATA) + "/peer-gguf/";
const std::string kTok = std::string(BITNET_TEST_DATA) + "/tokenizer/";

// The 14 ternary projections of the 2-layer fixture.
std::vector<std::string> projection_names() {
  std::vector<std::string> out;
  for (int l = 0; l < 2; ++l)
    for (const char* p : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"})
      out.push_back("blk." + std::to_string(l) + "." + p + ".weight");
  return out;
}

size_t count_type(const File& f, TensorType t) {
  size_t n = 0;
  for (const auto& ti : f.tensors()) n += ti.type == t;
  return n;
}

TEST(PeerGguf, BitnetCppF32Metadata) {
  auto f = File::open(kPeer + "tiny-fixture-bitnetcpp-f32.gguf");
  EXPECT_EQ(f->file_size(), 1593984u);
  EXPECT_EQ(f->architecture(), "bitnet-25");
  EXPECT_EQ(f->metadata().size(), 22u);
  EXPECT_EQ(f->alignment(), 32u);
  EXPECT_EQ(f->get_u64("general.file_type", 99), 0u);
  EXPECT_EQ(f->find("general.quantization_version"), nullptr);
  EXPECT_EQ(f->get_u64("bitnet-25.embedding_length", 0), 64u);
  EXPECT_EQ(f->get_u64("bitnet-25.block_count", 0), 2u);
  EXPECT_EQ(f->get_u64("bitnet-25.feed_forward_length", 0), 192u);
  EXPECT_EQ(f->get_u64("bitnet-25.attention.head_count", 0), 4u);
  EXPECT_EQ(f->get_u64("bitnet-25.attention.head_count_kv", 0), 2u);
  EXPECT_EQ(f->get_string("tokenizer.ggml.model", ""), "gpt2");
  EXPECT_EQ(f->find("tokenizer.ggml.pre"), nullptr);
  EXPECT_EQ(f->get("tokenizer.ggml.tokens").size(), 4096u);
  EXPECT_EQ(f->get("tokenizer.ggml.merges").size(), 3837u);
  EXPECT_EQ(f->get_u64("tokenizer.ggml.bos_token_id", 0), 4093u);
  EXPECT_EQ(f->get_u64("tokenizer.ggml.eos_token_id", 0), 4094u);
  EXPECT_TRUE(f->get_bool("tokenizer.ggml.add_bos_token", false));
  const auto scores = f->get("tokenizer.ggml.scores").as_f32s();
  ASSERT_EQ(scores.size(), 4096u);
  EXPECT_EQ(std::count(scores.begin(), scores.end(), -1000.0f), 3);
  EXPECT_EQ(std::count(scores.begin(), scores.end(), 0.0f), 4093);
  EXPECT_NE(f->get_string("tokenizer.chat_template", "").find("BITNETAssistant: "), std::string::npos);
  EXPECT_EQ(count_type(*f, TensorType::F32), f->tensors().size());
  EXPECT_EQ(f->tensors().size(), 14u + 9u + 1u);
}

TEST(PeerGguf, BitnetCppI2sMetadataAndTypes) {
  for (const char* name : {"tiny-fixture-bitnetcpp-i2_s.gguf", "tiny-fixture-bitnetcpp-i2_s-embq8.gguf"}) {
    SCOPED_TRACE(name);
    auto f = File::open(kPeer + name);
    EXPECT_EQ(f->architecture(), "bitnet-25");
    EXPECT_EQ(f->metadata().size(), 23u);
    EXPECT_EQ(f->get_u64("general.file_type", 0), 40u);
    EXPECT_NE(f->find("general.quantization_version"), nullptr);
    EXPECT_EQ(count_type(*f, TensorType::I2_S), 14u);
    for (const auto& n : projection_names()) {
      const TensorInfo* t = f->find_tensor(n);
      ASSERT_NE(t, nullptr) << n;
      EXPECT_EQ(t->gguf_type, kBitnetCppI2_S);
      EXPECT_EQ(t->nbytes, t->n_elements() / 4 + 32);
    }
    const TensorInfo* emb = f->find_tensor("token_embd.weight");
    ASSERT_NE(emb, nullptr);
    EXPECT_EQ(emb->type, std::string(name).find("embq8") != std::string::npos ? TensorType::Q8_0 : TensorType::F16);
    EXPECT_EQ(emb->dims, (std::vector<uint64_t>{64, 4096}));
  }
}

TEST(PeerGguf, LlamaCppF16Metadata) {
  auto f = File::open(kPeer + "tiny-fixture-llamacpp-f16.gguf");
  EXPECT_EQ(f->architecture(), "bitnet");
  EXPECT_EQ(f->metadata().size(), 26u);
  EXPECT_EQ(f->find("bitnet.rope.dimension_count"), nullptr);
  EXPECT_EQ(f->find("bitnet.vocab_size"), nullptr);
  EXPECT_EQ(f->find("tokenizer.ggml.scores"), nullptr);
  EXPECT_EQ(f->get_string("bitnet.rope.scaling.type", ""), "linear");
  EXPECT_EQ(f->get_string("tokenizer.ggml.pre", ""), "llama-bpe");
  EXPECT_EQ(f->get_string("general.name", ""), "Tiny Fixture");
  EXPECT_FALSE(f->get_bool("tokenizer.ggml.add_sep_token", true));
  EXPECT_EQ(f->get("tokenizer.ggml.tokens").size(), 4096u);
  for (const auto& n : projection_names()) EXPECT_EQ(f->find_tensor(n)->type, TensorType::F16) << n;

  auto g = File::open(kPeer + "tiny-fixture-llamacpp-f16-relu2.gguf");
  EXPECT_EQ(g->metadata().size(), 27u);
  EXPECT_EQ(g->get_string("bitnet.hidden_activation", ""), "relu2");
  // "same tensors, byte for byte"
  ASSERT_EQ(f->tensors().size(), g->tensors().size());
  for (const auto& t : f->tensors()) {
    const TensorInfo* u = g->find_tensor(t.name);
    ASSERT_NE(u, nullptr) << t.name;
    ASSERT_EQ(t.nbytes, u->nbytes);
    EXPECT_EQ(std::memcmp(t.data, u->data, t.nbytes), 0) << t.name;
  }
}

TEST(PeerGguf, I2sDecodesToTheSameTernaryWeightsAsTheF32File) {
  auto f32 = File::open(kPeer + "tiny-fixture-bitnetcpp-f32.gguf");
  for (const char* name : {"tiny-fixture-bitnetcpp-i2_s.gguf", "tiny-fixture-bitnetcpp-i2_s-embq8.gguf"}) {
    SCOPED_TRACE(name);
    auto i2s = File::open(kPeer + name);
    for (const auto& n : projection_names()) {
      SCOPED_TRACE(n);
      const TernaryWeights a = decode_ternary(*f32->find_tensor(n), nullptr);
      const TernaryWeights b = decode_ternary(*i2s->find_tensor(n), nullptr);
      ASSERT_EQ(a.rows, b.rows);
      ASSERT_EQ(a.cols, b.cols);
      EXPECT_EQ(a.values, b.values);
      EXPECT_GT(b.scale, 1e-4f);
      EXPECT_LT(b.scale, 1.0f);
      EXPECT_NEAR(a.scale, b.scale, 1e-6 * a.scale);
      // All three codes occur in a trained-looking ternary matrix.
      const std::set<int8_t> seen(b.values.begin(), b.values.end());
      EXPECT_EQ(seen.size(), 3u);
      // decode_to_f32 agrees with values * scale.
      const auto dense = decode_to_f32(*i2s->find_tensor(n));
      ASSERT_EQ(dense.size(), b.values.size());
      for (size_t i = 0; i < dense.size(); ++i) ASSERT_EQ(dense[i], float(b.values[i]) * b.scale);
    }
  }
}

TEST(PeerGguf, LlamaCppF16ProjectionsAreTernaryWithTheSameCodes) {
  auto f32 = File::open(kPeer + "tiny-fixture-bitnetcpp-f32.gguf");
  auto f16 = File::open(kPeer + "tiny-fixture-llamacpp-f16.gguf");
  for (const auto& n : projection_names()) {
    SCOPED_TRACE(n);
    const TernaryWeights a = decode_ternary(*f32->find_tensor(n), nullptr);
    const TernaryWeights b = decode_ternary(*f16->find_tensor(n), nullptr);
    EXPECT_EQ(a.values, b.values);
    EXPECT_NEAR(a.scale, b.scale, 5e-4 * a.scale);  // f16 rounding of alpha
  }
}

TEST(PeerGguf, EmbeddingsAgreeAcrossFiles) {
  auto f32 = File::open(kPeer + "tiny-fixture-bitnetcpp-f32.gguf");
  auto f16 = File::open(kPeer + "tiny-fixture-bitnetcpp-i2_s.gguf");
  auto q8 = File::open(kPeer + "tiny-fixture-bitnetcpp-i2_s-embq8.gguf");
  const auto ref = decode_to_f32(*f32->find_tensor("token_embd.weight"));
  const auto h = decode_to_f32(*f16->find_tensor("token_embd.weight"));
  const auto q = decode_to_f32(*q8->find_tensor("token_embd.weight"));
  ASSERT_EQ(ref.size(), 64u * 4096u);
  ASSERT_EQ(h.size(), ref.size());
  ASSERT_EQ(q.size(), ref.size());
  float max_h = 0, max_q = 0, max_ref = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    max_h = std::max(max_h, std::fabs(h[i] - ref[i]));
    max_q = std::max(max_q, std::fabs(q[i] - ref[i]));
    max_ref = std::max(max_ref, std::fabs(ref[i]));
  }
  EXPECT_GT(max_ref, 0.01f);
  EXPECT_LE(max_h, max_ref / 1024);  // one f16 rounding
  EXPECT_LE(max_q, max_ref / 127);   // one q8_0 step at most
  EXPECT_GT(max_q, 0.0f);
  // Row-range decode equals the slice of the full decode.
  std::vector<float> rows(3 * 64);
  decode_rows_to_f32(*q8->find_tensor("token_embd.weight"), 4093, 3, rows.data());
  EXPECT_TRUE(std::equal(rows.begin(), rows.end(), q.begin() + 4093 * 64));
}

TEST(PeerGguf, VocabOnlyFilesOpen) {
  struct Case {
    const char* file;
    const char* model;
    size_t min_tokens;
  };
  for (const Case& c : {Case{"ggml-vocab-llama-spm.gguf", "llama", 32000}, Case{"ggml-vocab-gpt-2.gguf", "gpt2", 50257},
                        Case{"ggml-vocab-falcon.gguf", "gpt2", 60000}}) {
    SCOPED_TRACE(c.file);
    auto f = File::open(kTok + c.file);
    EXPECT_TRUE(f->tensors().empty());
    EXPECT_EQ(f->get_string("tokenizer.ggml.model", ""), c.model);
    const Value& tokens = f->get("tokenizer.ggml.tokens");
    EXPECT_EQ(tokens.array_type(), ValueType::STRING);
    EXPECT_GE(tokens.size(), c.min_tokens);
    if (const Value* tt = f->find("tokenizer.ggml.token_type")) {
      EXPECT_EQ(tt->as_i32s().size(), tokens.size());
    }
  }
  EXPECT_EQ(File::open(kTok + "ggml-vocab-llama-spm.gguf")->get("tokenizer.ggml.tokens").size(), 32000u);
  EXPECT_EQ(File::open(kTok + "ggml-vocab-gpt-2.gguf")->get("tokenizer.ggml.tokens").size(), 50257u);
}

}  // namespace
}  // namespace bitnet::gguf
