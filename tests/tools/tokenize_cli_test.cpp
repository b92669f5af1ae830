// `bitnet tokenize` through the built binary: --ids prints exactly the reference ids on one line
// (the .out format scripts rely on), --no-bos drops BOS, the piece listing names each token, and a
// model that does not exist is a clear error.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace {

const std::string kBinary = std::string(BITNET_BINARY_DIR) + "/bitnet";
const std::string kModel = std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-b1.58.gguf";
const std::string kTokenizerJson = std::string(BITNET_TEST_DATA) + "/tiny-fixture/hf-packed/tokenizer.json";

std::pair<int, std::string> run(const std::string& args) {
  std::string out;
  FILE* p = ::popen((kBinary + " tokenize " + args + " 2>&1").c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(TokenizeCli, IdsLineMatchesReferencePromptIds) {
  // tests/data/tiny-bitnet/reference/prompts.json: "Once upon a time" -> [4093, 415, 432, 258, 392]
  auto [code, out] = run("-m " + kModel + " --ids 'Once upon a time'");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "4093 415 432 258 392\n");
  auto [code2, out2] = run("-m " + kTokenizerJson + " --ids --no-bos 'Once upon a time'");
  EXPECT_EQ(code2, 0);
  EXPECT_EQ(out2, "415 432 258 392\n");
}

TEST(TokenizeCli, PiecesAndErrors) {
  auto [code, out] = run("-m " + kModel + " 'Once upon'");
  EXPECT_EQ(code, 0);
  EXPECT_NE(out.find("' upon'"), std::string::npos) << out;
  EXPECT_NE(out.find("llama-bpe"), std::string::npos) << out;
  auto [bad, msg] = run("-m /no/such/model.gguf hello");
  EXPECT_NE(bad, 0);
  EXPECT_NE(msg.find("/no/such/model.gguf"), std::string::npos) << msg;
}

}  // namespace
