// Special tokens, streaming, round trips on random text, and the errors callers get.
#include <gtest/gtest.h>

#include <random>

#include "tokenizer/unicode.h"
#include "tokenizer_fixtures.h"

namespace bitnet::test {
namespace {

// Random valid UTF-8 mixing ASCII, whitespace, Latin, CJK, emoji and joiners.
std::string random_utf8(std::mt19937& rng, size_t n_cpts) {
  static const uint32_t pools[][2] = {{0x20, 0x7E}, {0x09, 0x0D}, {0xA0, 0x24F}, {0x370, 0x52F},
                                      {0x4E00, 0x4FFF}, {0x1F300, 0x1F6FF}, {0x200B, 0x200F},
                                      {0x80, 0x10FFFF}};
  std::string s;
  std::uniform_int_distribution<int> pick(0, 7);
  for (size_t i = 0; i < n_cpts; ++i) {
    const auto& p = pools[pick(rng)];
    uint32_t cp = std::uniform_int_distribution<uint32_t>(p[0], p[1])(rng);
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';
    unicode::append_utf8(s, cp);
  }
  return s;
}

TEST(TokenizerRoundTrip, RandomUtf8ByteLevelVocabs) {
  std::mt19937 rng(1234);
  for (const char* name : {"tiny", "llama3", "gpt-2"}) {
    const Tokenizer& tok = tokenizer(name);
    for (int iter = 0; iter < 300; ++iter) {
      const std::string s = random_utf8(rng, 1 + iter % 40);
      const auto ids = tok.encode(s, true, false);
      ASSERT_EQ(tok.decode(ids), s) << name << " iteration " << iter;
      Tokenizer::StreamDecoder stream(tok);
      std::string streamed;
      for (int32_t id : ids) {
        const std::string part = stream.push(id);
        // Every piece a stream hands out is complete UTF-8 for valid input.
        ASSERT_EQ(unicode::find_invalid_utf8(part), std::string::npos) << name;
        streamed += part;
      }
      streamed += stream.flush();
      ASSERT_EQ(streamed, s) << name;
    }
  }
}

TEST(TokenizerRoundTrip, RandomUtf8SentencePiece) {
  std::mt19937 rng(99);
  const Tokenizer& tok = tokenizer("llama-spm");
  for (int iter = 0; iter < 300; ++iter) {
    const std::string s = random_utf8(rng, 1 + iter % 40);
    EXPECT_EQ(tok.decode(tok.encode(s, true, false)), s) << "iteration " << iter;
  }
}

TEST(StreamDecoder, HoldsBackIncompleteUtf8) {
  const Tokenizer& tok = tokenizer("tiny");
  // "🦙" is four bytes; the tiny vocab spells it with byte tokens.
  const auto ids = tok.encode("\xF0\x9F\xA6\x99!", false, false);
  ASSERT_GE(ids.size(), 3u);
  Tokenizer::StreamDecoder stream(tok);
  std::vector<std::string> parts;
  for (int32_t id : ids) parts.push_back(stream.push(id));
  EXPECT_EQ(parts.front(), "");  // first byte(s) alone: nothing to print yet
  std::string all;
  for (auto& p : parts) all += p;
  EXPECT_EQ(all, "\xF0\x9F\xA6\x99!");
  EXPECT_EQ(stream.flush(), "");
}

TEST(StreamDecoder, PassesInvalidBytesThroughLikeDecode) {
  const Tokenizer& tok = tokenizer("tiny");
  // A lone continuation byte and a truncated sequence, as a model could generate.
  const std::vector<int32_t> ids = {tok.find_token(unicode::byte_to_unicode(0x80)),
                                   tok.find_token(unicode::byte_to_unicode(0xE2)), tok.find_token("a")};
  for (int32_t id : ids) ASSERT_GE(id, 0);
  Tokenizer::StreamDecoder stream(tok);
  std::string streamed;
  for (int32_t id : ids) streamed += stream.push(id);
  streamed += stream.flush();
  EXPECT_EQ(streamed, tok.decode(ids));
  EXPECT_EQ(streamed, std::string("\x80\xE2" "a"));
}

TEST(SpecialTokens, ParsedOnlyWhenAsked) {
  const Tokenizer& tok = tokenizer("tiny");
  const std::string text = "Hi<|eot_id|>there";
  const auto parsed = tok.encode(text, false, /*parse_special=*/true);
  const auto plain = tok.encode(text, false, /*parse_special=*/false);
  EXPECT_EQ(std::count(parsed.begin(), parsed.end(), 4095), 1);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), 4095), 0);
  EXPECT_EQ(tok.decode(plain), text);
  EXPECT_EQ(tok.decode(parsed), "Hithere");  // control tokens are not text
  EXPECT_EQ(tok.decode(parsed, /*render_special=*/true), text);
  // Text around a special token is tokenized as separate fragments.
  std::vector<int32_t> expected = tok.encode("Hi", false, false);
  expected.push_back(4095);
  for (int32_t id : tok.encode("there", false, false)) expected.push_back(id);
  EXPECT_EQ(parsed, expected);
}

TEST(SpecialTokens, Llama3ChatMarkers) {
  const Tokenizer& tok = tokenizer("llama3");
  const auto ids = tok.encode("<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true, true);
  ASSERT_GE(ids.size(), 6u);
  EXPECT_EQ(ids[0], 128000);
  EXPECT_EQ(ids[1], 128006);
  EXPECT_EQ(ids[3], 128007);
  EXPECT_EQ(ids.back(), 128009);
}

TEST(SpecialTokens, SentencePieceDummyPrefixAfterSpecial) {
  const Tokenizer& tok = tokenizer("llama-spm");
  // "<s>" parsed as BOS; the text after it gets the dummy-prefix space like text at the start.
  const auto a = tok.encode("<s>Hello", false, true);
  const auto b = tok.encode("Hello", true, false);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.front(), 1);
}

TEST(TokenizerErrors, InvalidUtf8IsRejectedWithOffset) {
  const Tokenizer& tok = tokenizer("tiny");
  for (const std::string& bad : {std::string("ab\xFF"), std::string("\xC3"), std::string("x\xED\xA0\x80"),
                                std::string("\xC0\xAF"), std::string("\xF4\x90\x80\x80")}) {
    try {
      tok.encode(bad, false, false);
      ADD_FAILURE() << "no error for invalid UTF-8";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("invalid UTF-8 at byte"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(tokenizer("llama-spm").encode("\x80", false, false), Error);
}

TEST(TokenizerErrors, OutOfRangeIds) {
  const Tokenizer& tok = tokenizer("tiny");
  EXPECT_THROW(tok.decode(std::vector<int32_t>{1, 4096}), Error);
  EXPECT_THROW(tok.decode(std::vector<int32_t>{-1}), Error);
  EXPECT_THROW(tok.token_piece(99999), Error);
  Tokenizer::StreamDecoder stream(tok);
  EXPECT_THROW(stream.push(4096), Error);
  try {
    tok.decode(std::vector<int32_t>{5000});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("5000"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("4096"), std::string::npos);
  }
  EXPECT_FALSE(tok.is_eog(-3));
  EXPECT_FALSE(tok.is_eog(1 << 20));
}

TEST(TokenizerErrors, BadVocabs) {
  Vocab v;
  v.model = "gpt2";
  EXPECT_THROW(Tokenizer{v}, Error);  // no tokens
  v.tokens = {"a", "b"};
  v.types = {TokenType::Normal};
  EXPECT_THROW(Tokenizer{v}, Error);  // types length
  v.types = {TokenType::Normal, TokenType::Normal};
  v.bos_id = 7;
  EXPECT_THROW(Tokenizer{v}, Error);  // bos out of range
  v.bos_id = -1;
  v.model = "wordpiece";
  EXPECT_THROW(Tokenizer{v}, Error);
  v.model = "gpt2";
  v.pre = "qwen2";
  EXPECT_THROW(Tokenizer{v}, Error);  // pre-tokenizer we do not implement
  v.pre = "gpt-2";
  EXPECT_NO_THROW(Tokenizer{v});
  v.model = "llama";
  EXPECT_THROW(Tokenizer{v}, Error);  // SentencePiece without scores
}

TEST(VocabFromHfJson, MissingFileIsAnError) {
  EXPECT_THROW(vocab_from_hf_json(data_path("does-not-exist")), Error);
  EXPECT_THROW(vocab_from_path(data_path("does-not-exist.gguf")), Error);
}

TEST(VocabFromHfJson, TinyFieldsMatchTheConverterContract) {
  const Vocab v = vocab_from_hf_json(data_path("tiny-fixture/hf-packed/tokenizer.json"));
  EXPECT_EQ(v.model, "gpt2");
  EXPECT_EQ(v.pre, "llama-bpe");
  ASSERT_EQ(v.tokens.size(), 4096u);
  EXPECT_EQ(v.tokens[4093], "<|begin_of_text|>");
  EXPECT_EQ(v.types[4093], TokenType::Control);
  EXPECT_EQ(v.types[0], TokenType::Normal);
  EXPECT_EQ(v.merges.size(), 3837u);
  EXPECT_EQ(v.merges[0], "h e");  // [a, b] pair form joined with a space
  EXPECT_TRUE(v.add_bos);
  EXPECT_FALSE(v.add_eos);
  EXPECT_EQ(v.bos_id, 4093);
  EXPECT_EQ(v.eos_id, 4094);
  EXPECT_EQ(v.eot_id, 4095);
  EXPECT_TRUE(v.scores.empty());
  EXPECT_NE(v.chat_template.find("capitalize"), std::string::npos);
}

}  // namespace
}  // namespace bitnet::test
