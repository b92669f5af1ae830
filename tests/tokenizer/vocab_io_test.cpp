// GGUF tokenizer metadata: bad values are reported with the key; an SPM tokenizer.json rebuilt
// from the LLaMA 2 vocab reproduces the reference vectors (the converter's SentencePiece path).
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "tokenizer_fixtures.h"

namespace bitnet::test {
namespace {

Vocab tiny_vocab() {
  Vocab v;
  v.model = "gpt2";
  v.pre = "gpt-2";
  v.tokens = {"a", "b", "ab", "<|end|>"};
  v.types = {TokenType::Normal, TokenType::Normal, TokenType::Normal, TokenType::Control};
  v.merges = {"a b"};
  v.eos_id = 3;
  return v;
}

std::string load_error(const std::function<void(gguf::Writer&)>& edit) {
  gguf::Writer w;
  vocab_to_gguf(tiny_vocab(), w);
  edit(w);
  const auto bytes = w.write_to_memory();
  auto file = gguf::File::from_memory(bytes.data(), bytes.size(), "edited.gguf");
  try {
    Tokenizer tok(vocab_from_gguf(*file));
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(VocabGguf, RoundTripKeepsEveryField) {
  Vocab v = tiny_vocab();
  v.eot_id = 3;
  v.add_bos = true;
  v.chat_template = "{{ x }}";
  const Vocab r = roundtrip_through_gguf(v);
  EXPECT_EQ(r.model, v.model);
  EXPECT_EQ(r.pre, v.pre);
  EXPECT_EQ(r.tokens, v.tokens);
  EXPECT_EQ(r.types, v.types);
  EXPECT_EQ(r.merges, v.merges);
  EXPECT_EQ(r.eos_id, 3);
  EXPECT_EQ(r.eot_id, 3);
  EXPECT_EQ(r.bos_id, -1);
  EXPECT_TRUE(r.add_bos);
  EXPECT_EQ(r.chat_template, v.chat_template);
  const Tokenizer tok(r);
  EXPECT_EQ(tok.encode("ab", false, false), (std::vector<int32_t>{2}));
  EXPECT_TRUE(tok.is_eog(3));
}

TEST(VocabGguf, BadMetadataIsReportedWithTheKey) {
  EXPECT_EQ(load_error([](gguf::Writer&) {}), "");
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.eos_token_id", gguf::Value::u32(4)); })
                .find("tokenizer.ggml.eos_token_id"),
            std::string::npos);
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.token_type", gguf::Value::i32_array({1, 1})); })
                .find("tokenizer.ggml.token_type"),
            std::string::npos);
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.token_type", gguf::Value::i32_array({1, 1, 9, 3})); })
                .find("not a known token type"),
            std::string::npos);
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.scores", gguf::Value::f32_array({0.f})); })
                .find("tokenizer.ggml.scores"),
            std::string::npos);
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.merges", gguf::Value::string_array({"ab"})); })
                .find("merges"),
            std::string::npos);
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.pre", gguf::Value::string("qwen2")); })
                .find("qwen2"),
            std::string::npos);
  EXPECT_NE(load_error([](gguf::Writer& w) { w.set("tokenizer.ggml.tokens", gguf::Value::u32(3)); }), "");
  // Invalid UTF-8 in a token text.
  EXPECT_NE(load_error([](gguf::Writer& w) {
              w.set("tokenizer.ggml.tokens", gguf::Value::string_array({"a", "b", "\xFF", "<|end|>"}));
            }).find("invalid UTF-8"),
            std::string::npos);
}

TEST(VocabHfJson, SentencePieceTokenizerJsonMatchesTheGgufVocab) {
  // Rebuild what Hugging Face's LlamaTokenizerFast stores (BPE with merges ordered by the merged
  // piece's score, byte fallback, Prepend/Replace normalizer) from the LLaMA 2 vocab-only GGUF.
  const Vocab spm = vocab_from_gguf_path(data_path("tokenizer/ggml-vocab-llama-spm.gguf"));
  nlohmann::json vocab = nlohmann::json::object();
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < spm.tokens.size(); ++i) {
    vocab[spm.tokens[i]] = i;
    index.emplace(spm.tokens[i], i);
  }
  std::vector<std::pair<size_t, std::string>> merges;  // (merged id, "a b")
  for (size_t i = 0; i < spm.tokens.size(); ++i) {
    const std::string& t = spm.tokens[i];
    if (spm.types[i] != TokenType::Normal) continue;
    for (size_t cut = 1; cut < t.size(); ++cut) {
      if ((uint8_t(t[cut]) & 0xC0) == 0x80) continue;
      auto l = index.find(t.substr(0, cut)), r = index.find(t.substr(cut));
      if (l != index.end() && r != index.end()) merges.push_back({i, l->first + " " + r->first});
    }
  }
  std::stable_sort(merges.begin(), merges.end(), [&](const auto& a, const auto& b) {
    return spm.scores[a.first] > spm.scores[b.first];
  });
  nlohmann::json merge_list = nlohmann::json::array();
  for (const auto& m : merges) merge_list.push_back(m.second);
  nlohmann::json root = {
      {"added_tokens", {{{"id", 0}, {"content", "<unk>"}, {"special", true}},
                        {{"id", 1}, {"content", "<s>"}, {"special", true}},
                        {{"id", 2}, {"content", "</s>"}, {"special", true}}}},
      {"normalizer", {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}},
                                                             {{"type", "Replace"}}}}}},
      {"pre_tokenizer", nullptr},
      {"decoder", {{"type", "Sequence"}, {"decoders", {{{"type", "ByteFallback"}}}}}},
      {"model", {{"type", "BPE"}, {"byte_fallback", true}, {"unk_token", "<unk>"}, {"vocab", vocab},
                 {"merges", merge_list}}},
  };
  const auto dir = std::filesystem::temp_directory_path() / "bitnet-spm-json-test";
  std::filesystem::create_directories(dir);
  { std::ofstream(dir / "tokenizer.json") << root.dump(); }
  { std::ofstream(dir / "tokenizer_config.json") << R"({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true})"; }
  const Vocab v = vocab_from_hf_json(dir.string());
  std::filesystem::remove_all(dir);
  EXPECT_EQ(v.model, "llama");
  EXPECT_TRUE(v.add_space_prefix);
  EXPECT_EQ(v.bos_id, 1);
  EXPECT_EQ(v.eos_id, 2);
  EXPECT_EQ(v.unk_id, 0);
  EXPECT_EQ(v.types[3], TokenType::Byte);
  const Tokenizer tok(v);
  size_t passed = 0;
  const auto cases = vectors_for("llama-spm");
  for (const auto& c : cases) passed += tok.encode(c.text, false, false) == c.ids;
  std::printf("[ vectors  ] llama-spm via tokenizer.json: %zu/%zu passed\n", passed, cases.size());
  EXPECT_EQ(passed, cases.size());
}

}  // namespace
}  // namespace bitnet::test
