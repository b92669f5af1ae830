// The hand-written split regexes on cases that isolate each alternative.
#include "tokenizer/pretokenize.h"

#include <gtest/gtest.h>

#include "tokenizer/unicode.h"
#include "util/error.h"

namespace bitnet::tok {
namespace {

std::vector<std::string> split(std::string_view pre, std::string_view text) {
  SplitScratch scratch;
  std::vector<std::string_view> pieces;
  pre_tokenize(pre_tokenizer_for(pre), text, scratch, pieces);
  return {pieces.begin(), pieces.end()};
}

using V = std::vector<std::string>;

TEST(PreTokenizeLlama3, Alternatives) {
  EXPECT_EQ(split("llama-bpe", "I'M can't"), (V{"I", "'M", " can", "'t"}));  // case-insensitive
  EXPECT_EQ(split("llama-bpe", "12345"), (V{"123", "45"}));
  EXPECT_EQ(split("llama-bpe", "a  b"), (V{"a", " ", " b"}));
  EXPECT_EQ(split("llama-bpe", "x \n\n y"), (V{"x", " \n\n", " y"}));
  EXPECT_EQ(split("llama-bpe", "!!!\n\nx"), (V{"!!!\n\n", "x"}));
  EXPECT_EQ(split("llama-bpe", "(hello"), (V{"(hello"}));
  EXPECT_EQ(split("llama-bpe", "end   "), (V{"end", "   "}));
  EXPECT_EQ(split("llama-bpe", "\xC2\xA0non"), (V{"\xC2\xA0non"}));  // NBSP is \s but not \r\n
}

TEST(PreTokenizeGpt2, Alternatives) {
  EXPECT_EQ(split("gpt-2", "I'M can't"), (V{"I", "'", "M", " can", "'t"}));  // case-sensitive
  EXPECT_EQ(split("gpt-2", "12345 678"), (V{"12345", " 678"}));
  EXPECT_EQ(split("gpt-2", "\tb"), (V{"\t", "b"}));
  EXPECT_EQ(split("gpt-2", "a   b"), (V{"a", "  ", " b"}));
}

TEST(PreTokenizeFalcon, PunctuationAndDigitGroups) {
  EXPECT_EQ(split("falcon", "a+=b 1234567"), (V{"a", "+=", "b", " ", "123", "456", "7"}));
  EXPECT_EQ(split("falcon", "1234567"), (V{"123", "456", "7"}));
  EXPECT_EQ(split("falcon", "x...y"), (V{"x", "...", "y"}));
}

TEST(PreTokenize, PiecesCoverTheText) {
  const std::string text = "Hello, world! 🦙🦙 3.14\n\n\tend  ";
  for (const auto& pre : supported_pre_tokenizers()) {
    std::string joined;
    for (const auto& p : split(pre, text)) {
      EXPECT_FALSE(p.empty()) << pre;
      joined += p;
    }
    EXPECT_EQ(joined, text) << pre;
  }
}

TEST(PreTokenize, FalconFamilyNamesUseTheLlama3Split) {
  // llama.cpp's llama-vocab.cpp maps falcon3 / falcon_e / falcon-h1 to its LLAMA3 pre-type with
  // ignore_merges: Falcon3 1.58-bit files converted by llama.cpp carry these names.
  for (const char* name : {"falcon3", "falcon_e", "falcon-h1"}) {
    const PreTokenizer p = pre_tokenizer_for(name);
    EXPECT_EQ(p.name, "llama-bpe") << name;
    EXPECT_TRUE(p.ignore_merges) << name;
    EXPECT_EQ(split(name, "Hello 12345 world!!"), split("llama-bpe", "Hello 12345 world!!")) << name;
  }
}

TEST(PreTokenize, UnknownNameIsAnError) { EXPECT_THROW(pre_tokenizer_for("qwen2"), Error); }

TEST(Unicode, CategoriesAndUtf8) {
  EXPECT_TRUE(unicode::is_letter('a'));
  EXPECT_TRUE(unicode::is_letter(0x4E2D));   // 中
  EXPECT_TRUE(unicode::is_letter(0x1D400));  // mathematical bold A (outside the BMP)
  EXPECT_TRUE(unicode::is_number('7'));
  EXPECT_TRUE(unicode::is_number(0x0663));   // Arabic-Indic three
  EXPECT_TRUE(unicode::is_whitespace(0x3000));
  EXPECT_TRUE(unicode::is_whitespace(0x85));
  EXPECT_FALSE(unicode::is_whitespace(0x200B));  // zero-width space is not White_Space
  EXPECT_TRUE(unicode::is_punctuation('!'));
  EXPECT_FALSE(unicode::is_punctuation('+'));  // Sm
  EXPECT_EQ(unicode::flags(0x110000), 0);
  EXPECT_EQ(unicode::find_invalid_utf8("ok \xE2\x82\xAC"), std::string_view::npos);
  EXPECT_EQ(unicode::find_invalid_utf8("ok \xE2\x82"), 3u);
  EXPECT_EQ(unicode::find_invalid_utf8("\xE0\x80\x80"), 0u);  // overlong
  for (int b = 0; b < 256; ++b) {
    size_t pos = 0;
    uint32_t cp = 0;
    const std::string& s = unicode::byte_to_unicode(uint8_t(b));
    ASSERT_TRUE(unicode::decode_utf8(s, pos, cp));
    EXPECT_EQ(unicode::unicode_to_byte(cp), b);
  }
  EXPECT_EQ(unicode::byte_to_unicode(' '), "\xC4\xA0");  // Ġ
}

}  // namespace
}  // namespace bitnet::tok
