// `bitnet chat` end to end through the built binary: replies stream for each input line, greedy is
// deterministic, and a bad template name is a clear error.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace {

const std::string kBinary = std::string(BITNET_BINARY_DIR) + "/bitnet";
const std::string kModel = std::string(BITNET_SOURCE_DIR) + "/models/tiny-bitnet-b1.58.gguf";

struct Result {
  int exit_code = -1;
  std::string out;
};

Result chat(const std::string& input, const std::string& args) {
  Result r;
  const std::string cmd = "printf '" + input + "' | " + kBinary + " chat -m " + kModel + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

TEST(ChatCli, TwoTurnsGreedyAreDeterministic) {
  ASSERT_TRUE(std::filesystem::exists(kBinary)) << kBinary << " not built";
  const Result a = chat("Hello there.\\nTell me more.\\n", "--temp 0 -n 12 -t 1");
  const Result b = chat("Hello there.\\nTell me more.\\n", "--temp 0 -n 12 -t 2");
  ASSERT_EQ(a.exit_code, 0) << a.out;
  EXPECT_NE(a.out.find("chat template: bitnet"), std::string::npos) << a.out;
  // Same greedy replies whatever the thread count (the model line differs only in load time).
  EXPECT_EQ(a.out.substr(a.out.find("chat template")), b.out.substr(b.out.find("chat template")));
}

TEST(ChatCli, TemplateOverrideAndUnknownName) {
  const Result ok = chat("Hi\\n", "--temp 0 -n 4 --chat-template llama3");
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  EXPECT_NE(ok.out.find("chat template: llama3"), std::string::npos) << ok.out;
  const Result bad = chat("Hi\\n", "--temp 0 -n 4 --chat-template nosuch");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("nosuch"), std::string::npos) << bad.out;
}

}  // namespace
