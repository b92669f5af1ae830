// Every reference vector set passes exactly (llama.cpp's vectors and the tiny model's), for each
// vocab loaded from its native source and, for tokenizer.json vocabs, through our GGUF writer.
#include <gtest/gtest.h>

#include "tokenizer_fixtures.h"

namespace bitnet::test {
namespace {

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) {
    s += ' ';
    s += std::to_string(id);
  }
  return s;
}

class VectorSet : public ::testing::TestWithParam<std::string> {};

TEST_P(VectorSet, MatchesReferenceIds) {
  const Tokenizer& tok = tokenizer(GetParam());
  const auto cases = vectors_for(GetParam());
  ASSERT_GE(cases.size(), 46u);
  size_t passed = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto got = tok.encode(cases[i].text, /*add_special=*/false, /*parse_special=*/false);
    if (got == cases[i].ids) {
      ++passed;
    } else {
      ADD_FAILURE() << GetParam() << " case " << i << " text '" << cases[i].text << "'\n  expected:"
                    << show(cases[i].ids) << "\n  got:     " << show(got);
    }
  }
  std::printf("[ vectors  ] %s: %zu/%zu passed\n", GetParam().c_str(), passed, cases.size());
  EXPECT_EQ(passed, cases.size());
}

TEST_P(VectorSet, DecodeOfEncodeIsIdentityAndStreamsTheSame) {
  const Tokenizer& tok = tokenizer(GetParam());
  for (const auto& c : vectors_for(GetParam())) {
    for (bool add_special : {false, true}) {
      const auto ids = tok.encode(c.text, add_special, false);
      const std::string full = tok.decode(ids);
      EXPECT_EQ(full, c.text) << GetParam() << " add_special=" << add_special;
      Tokenizer::StreamDecoder stream(tok);
      std::string streamed;
      for (int32_t id : ids) {
        const std::string part = stream.push(id);
        streamed += part;
      }
      streamed += stream.flush();
      EXPECT_EQ(streamed, full) << GetParam();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, VectorSet,
                         ::testing::Values("llama-spm", "gpt-2", "falcon", "llama3", "llama3-gguf",
                                           "tiny", "tiny-gguf"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace bitnet::test
