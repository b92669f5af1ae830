// Smoke tests of the built `bitnet` binary: `synth` writes a model that `bench` runs, and bench's
// machine-readable outputs parse with the expected fields. No timing is checked.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace {

const std::string kBinary = std::string(BITNET_BINARY_DIR) + "/bitnet";

struct CmdResult {
  int exit_code = -1;
  std::string out;  // stdout only; stderr goes to the test log
};

CmdResult run_cli(const std::string& args) {
  CmdResult r;
  const std::string cmd = kBinary + " " + args;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class BenchCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = (std::filesystem::temp_directory_path() / ("bench-cli-tiny-" + std::to_string(::getpid()) + ".gguf")).string();
    synth_ = run_cli("synth --preset tiny --seed 3 -o " + model_);
  }
  static void TearDownTestSuite() { std::filesystem::remove(model_); }
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kBinary)) << kBinary << " not built (build the `bitnet` target)";
    ASSERT_EQ(synth_.exit_code, 0) << "bitnet synth failed";
  }
  static std::string model_;
  static CmdResult synth_;
};
std::string BenchCli::model_;
CmdResult BenchCli::synth_;

// Small, quick settings: tiny model, one repetition, a small bandwidth buffer.
std::string quick(const std::string& model) {
  return "bench -m " + model + " -p 16 -n 4 -t 1,2 -r 1 --bw-size 32 --bw-runs 1";
}

TEST_F(BenchCli, JsonRowsHaveLlamaBenchFieldsAndBandwidthLimit) {
  const CmdResult r = run_cli(quick(model_) + " -o json");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto rows = nlohmann::json::parse(r.out);
  ASSERT_TRUE(rows.is_array());
  ASSERT_EQ(rows.size(), 4u);  // (pp16, tg4) x (1, 2 threads)
  const char* fields[] = {"build_commit", "model_filename", "model_type", "model_size", "model_n_params", "n_threads",
                          "n_prompt", "n_gen", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ts", "isa",
                          "kernel", "bytes_per_token", "bw_limit_ts", "frac_of_bw_limit"};
  for (const auto& row : rows)
    for (const char* f : fields) EXPECT_TRUE(row.contains(f)) << f;
  EXPECT_EQ(rows[0]["n_prompt"], 16);
  EXPECT_EQ(rows[0]["n_gen"], 0);
  EXPECT_EQ(rows[0]["n_threads"], 1);
  EXPECT_TRUE(rows[0]["bw_limit_ts"].is_null());  // no bandwidth limit for prefill
  EXPECT_EQ(rows[1]["n_gen"], 4);
  EXPECT_EQ(rows[3]["n_threads"], 2);
  for (const auto& row : rows) {
    EXPECT_EQ(row["model_filename"], model_);
    EXPECT_GT(row["avg_ts"].get<double>(), 0.0);
    EXPECT_EQ(row["samples_ts"].size(), 1u);
    EXPECT_FALSE(row["kernel"].get<std::string>().empty());
    if (row["n_gen"] == 4) {
      EXPECT_GT(row["bytes_per_token"].get<uint64_t>(), 0u);
      const double limit = row["bw_limit_ts"].get<double>();
      EXPECT_GT(limit, 0.0);
      EXPECT_NEAR(row["frac_of_bw_limit"].get<double>(), row["avg_ts"].get<double>() / limit, 1e-9 * limit);
    }
  }
}

TEST_F(BenchCli, JsonlIsOneObjectPerLine) {
  const CmdResult r = run_cli("bench -m " + model_ + " -p 8 -n 0 -t 1 -r 2 -o jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    const auto row = nlohmann::json::parse(line);
    EXPECT_EQ(row["n_prompt"], 8);
    EXPECT_EQ(row["samples_ns"].size(), 2u);
    ++n;
  }
  EXPECT_EQ(n, 1);  // -n 0: no tg test
}

TEST_F(BenchCli, MarkdownAndCsv) {
  const CmdResult md = run_cli(quick(model_));
  ASSERT_EQ(md.exit_code, 0) << md.out;
  EXPECT_NE(md.out.find("| model"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("pp16"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("tg4"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("memory read bandwidth"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("build: "), std::string::npos) << md.out;

  const CmdResult csv = run_cli("bench -m " + model_ + " -p 8 -n 2 -t 1 -r 1 --no-bw -o csv");
  ASSERT_EQ(csv.exit_code, 0) << csv.out;
  std::istringstream lines(csv.out);
  std::string header, row;
  ASSERT_TRUE(std::getline(lines, header));
  EXPECT_EQ(header.rfind("build_commit,", 0), 0u) << header;
  int rows = 0;
  while (std::getline(lines, row)) ++rows;
  EXPECT_EQ(rows, 2);
}

TEST_F(BenchCli, BadArgumentsFail) {
  EXPECT_NE(run_cli("bench -m " + model_ + " -o xml 2>/dev/null").exit_code, 0);
  EXPECT_NE(run_cli("bench -m /nonexistent.gguf -p 8 -n 0 2>/dev/null").exit_code, 0);
  EXPECT_NE(run_cli("synth --preset 7b -o /tmp/never-written.gguf 2>/dev/null").exit_code, 0);
}

}  // namespace
