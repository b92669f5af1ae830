// The tiny model's reference prompt ids (with BOS) and greedy continuations, from Hugging Face.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer_fixtures.h"

namespace bitnet::test {
namespace {

using nlohmann::json;

class TinyReference : public ::testing::TestWithParam<std::string> {};

TEST_P(TinyReference, PromptIdsIncludeBosAndMatch) {
  const Tokenizer& tok = tokenizer(GetParam());
  const json prompts = json::parse(read_file(data_path("tiny-bitnet/reference/prompts.json")));
  ASSERT_EQ(prompts.size(), 8u);
  for (const json& p : prompts) {
    const auto expected = p["input_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.encode(p["prompt"].get<std::string>(), /*add_special=*/true, false), expected)
        << p["prompt"];
    EXPECT_EQ(expected.front(), tok.bos());
  }
}

TEST_P(TinyReference, GreedyContinuationsDecodeToReferenceText) {
  const Tokenizer& tok = tokenizer(GetParam());
  const json greedy = json::parse(read_file(data_path("tiny-bitnet/reference/greedy.json")));
  for (const json& g : greedy) {
    const auto prompt_ids = g["input_ids"].get<std::vector<int32_t>>();
    const auto new_ids = g["new_ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.decode(new_ids), g["text"].get<std::string>());
    std::vector<int32_t> all = prompt_ids;
    all.insert(all.end(), new_ids.begin(), new_ids.end());
    EXPECT_EQ(tok.decode(all, /*render_special=*/true), g["full_text"].get<std::string>());
    // Streaming gives the same text.
    Tokenizer::StreamDecoder stream(tok);
    std::string streamed;
    for (int32_t id : new_ids) streamed += stream.push(id);
    streamed += stream.flush();
    EXPECT_EQ(streamed, g["text"].get<std::string>());
  }
}

TEST_P(TinyReference, SpecialIdsAndEndOfGeneration) {
  const Tokenizer& tok = tokenizer(GetParam());
  EXPECT_EQ(tok.n_vocab(), 4096);
  EXPECT_EQ(tok.bos(), 4093);
  EXPECT_EQ(tok.eos(), 4094);
  EXPECT_EQ(tok.eot(), 4095);
  EXPECT_TRUE(tok.add_bos());
  EXPECT_TRUE(tok.is_eog(4094));
  EXPECT_TRUE(tok.is_eog(4095));
  EXPECT_FALSE(tok.is_eog(4093));
  EXPECT_FALSE(tok.is_eog(13));
  EXPECT_EQ(tok.pre_tokenizer_name(), "llama-bpe");
  EXPECT_NE(tok.vocab().chat_template.find("<|eot_id|>"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Sources, TinyReference, ::testing::Values("tiny", "tiny-gguf"),
                         [](const auto& info) { return info.param == "tiny" ? "json" : "gguf"; });

TEST(Llama3Vocab, SpecialIdsFromTokenizerJsonAndGguf) {
  for (const char* name : {"llama3", "llama3-gguf"}) {
    const Tokenizer& tok = tokenizer(name);
    EXPECT_EQ(tok.n_vocab(), 128256) << name;
    EXPECT_EQ(tok.bos(), 128000) << name;
    EXPECT_EQ(tok.eot(), 128009) << name;
    EXPECT_TRUE(tok.is_eog(128009)) << name;
    EXPECT_TRUE(tok.is_eog(tok.eos())) << name;
    EXPECT_TRUE(tok.add_bos()) << name;
    EXPECT_EQ(tok.encode("Hello", true, false).front(), 128000) << name;
  }
}

TEST(Llama3Vocab, MissingPreTokenizerFallsBackToLlamaBpe) {
  // The official 2B-4T GGUF has no tokenizer.ggml.pre: recognise the vocab and use llama-bpe.
  Vocab v = vocab_from_hf_json(data_path("tokenizer/llama3/tokenizer.json"));
  v.pre.clear();
  gguf::Writer w;
  vocab_to_gguf(v, w);
  const auto bytes = w.write_to_memory();
  auto file = gguf::File::from_memory(bytes.data(), bytes.size(), "no-pre.gguf");
  ASSERT_EQ(file->find("tokenizer.ggml.pre"), nullptr);
  const Tokenizer tok(vocab_from_gguf(*file));
  EXPECT_EQ(tok.pre_tokenizer_name(), "llama-bpe");
  EXPECT_TRUE(tok.add_bos());
  const auto cases = vectors_for("llama3");
  size_t passed = 0;
  for (const auto& c : cases) passed += tok.encode(c.text, false, false) == c.ids;
  EXPECT_EQ(passed, cases.size());
}

}  // namespace
}  // namespace bitnet::test
