#include "runtime/bench.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "graph/context.h"
#include "model/model.h"
#include "runtime/bandwidth.h"
#include "runtime/synth.h"
#include "util/error.h"

namespace bitnet {
namespace {

class BenchLib : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    path_ = (std::filesystem::temp_directory_path() / ("bench-lib-" + std::to_string(::getpid()) + ".gguf")).string();
    SynthOptions o;
    o.out_path = path_;
    synth_model(*find_synth_preset("tiny"), o);
    model_ = Model::load(path_).release();
  }
  static void TearDownTestSuite() {
    delete model_;
    std::filesystem::remove(path_);
  }
  static std::string path_;
  static Model* model_;
};
std::string BenchLib::path_;
Model* BenchLib::model_ = nullptr;

TEST_F(BenchLib, DecodeTrafficCountsEverySource) {
  const ModelParams& p = model_->params();
  const DecodeTraffic t0 = decode_traffic(*model_, 0);
  EXPECT_EQ(t0.ternary, model_->packed_weight_bytes());
  // Default int8 head copy: one byte per weight plus an f32 scale per row.
  EXPECT_EQ(t0.lm_head_in_memory, uint64_t(p.n_vocab * p.n_embd) + uint64_t(p.n_vocab) * sizeof(float));
  EXPECT_EQ(t0.lm_head, uint64_t(p.n_vocab * p.n_embd) * 2);  // tied f16 embedding in the file
  EXPECT_EQ(t0.total_in_memory() - t0.total(), t0.lm_head_in_memory - t0.lm_head);
  // attn_norm, ffn_norm (n_embd), attn_sub_norm (q_dim), ffn_sub_norm (n_ff) per layer + output_norm.
  EXPECT_EQ(t0.norms, uint64_t(p.n_layer * (2 * p.n_embd + p.q_dim() + p.n_ff) + p.n_embd) * sizeof(float));
  EXPECT_EQ(t0.kv, 0u);
  const DecodeTraffic t10 = decode_traffic(*model_, 10);
  EXPECT_EQ(t10.kv, uint64_t(2 * p.n_layer * p.kv_dim() * 10) * sizeof(float));
  EXPECT_EQ(t10.total(), t0.total() + t10.kv);
  EXPECT_EQ(decode_traffic(*model_, 10, 1000).kv, 10000u);  // a quantized cache's own size
}

TEST_F(BenchLib, ModelInfoFromTheFile) {
  const BenchModelInfo info = bench_model_info(*model_);
  EXPECT_EQ(info.filename, path_);
  EXPECT_GT(info.size, 0u);
  EXPECT_LT(info.size, std::filesystem::file_size(path_));
  EXPECT_EQ(info.type.rfind("bitnet-b1.58 ", 0), 0u) << info.type;
  EXPECT_NE(info.type.find("BT2"), std::string::npos) << info.type;
}

TEST_F(BenchLib, RunsTestsInLlamaBenchOrder) {
  BenchConfig cfg;
  cfg.n_prompt = {8, 0, 12};
  cfg.n_gen = {3};
  cfg.n_threads = {1, 2};
  cfg.repetitions = 2;
  cfg.bandwidth_buffer_bytes = 8 << 20;
  cfg.bandwidth_runs = 1;
  int rows_seen = 0;
  std::vector<int> bw_threads;
  const auto rows = run_bench(
      *model_, cfg, [&](const BenchRow&) { ++rows_seen; }, [&](int t, double bps) {
        bw_threads.push_back(t);
        EXPECT_GT(bps, 0.0);
      });
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows_seen, 6);
  EXPECT_EQ(bw_threads, (std::vector<int>{1, 2}));
  const char* names[] = {"pp8", "pp12", "tg3", "pp8", "pp12", "tg3"};
  for (size_t i = 0; i < rows.size(); ++i) {
    const BenchRow& r = rows[i];
    EXPECT_EQ(r.test_name(), names[i]);
    EXPECT_EQ(r.n_threads, i < 3 ? 1 : 2);
    ASSERT_EQ(r.samples_ns.size(), 2u);
    ASSERT_EQ(r.samples_ts.size(), 2u);
    const int n = r.n_prompt + r.n_gen;
    for (size_t k = 0; k < 2; ++k) EXPECT_NEAR(r.samples_ts[k], n * 1e9 / r.samples_ns[k], 1e-6 * r.samples_ts[k]);
    EXPECT_NEAR(r.avg_ts, (r.samples_ts[0] + r.samples_ts[1]) / 2, 1e-9 * r.avg_ts);
    EXPECT_EQ(r.kernel, model_->kernel_name());
    EXPECT_GE(r.preempted_share, 0.0);
    if (r.n_gen > 0) {
      EXPECT_EQ(r.bytes_per_token, decode_traffic(*model_, 3.0).total());
      EXPECT_EQ(r.bytes_per_token_in_memory, decode_traffic(*model_, 3.0).total_in_memory());
      // One bandwidth sample per repetition, taken right before it; the fraction of the limit is
      // the mean of each repetition's t/s over the limit of its own sample.
      ASSERT_EQ(r.mem_bw_samples.size(), 2u);
      EXPECT_GT(r.mem_bw_samples[0], 0.0);
      EXPECT_GT(r.mem_bw_samples[1], 0.0);
      EXPECT_DOUBLE_EQ(r.mem_bw, (r.mem_bw_samples[0] + r.mem_bw_samples[1]) / 2);
      EXPECT_DOUBLE_EQ(r.bw_limit_ts, r.mem_bw / double(r.bytes_per_token));
      const double bytes = double(r.bytes_per_token);
      EXPECT_NEAR(r.frac_of_bw_limit,
                  (r.samples_ts[0] * bytes / r.mem_bw_samples[0] + r.samples_ts[1] * bytes / r.mem_bw_samples[1]) / 2,
                  1e-12 * r.frac_of_bw_limit);
    } else {
      EXPECT_EQ(r.bytes_per_token, 0u);
      EXPECT_EQ(r.bw_limit_ts, 0.0);
      EXPECT_TRUE(r.mem_bw_samples.empty());
    }
  }
  const auto j = bench_row_json(rows[2]);
  EXPECT_EQ(j["n_gen"], 3);
  EXPECT_EQ(j["samples_ns"].size(), 2u);
  EXPECT_EQ(j["mem_bw_samples_gbs"].size(), 2u);
  EXPECT_TRUE(bench_row_json(rows[0])["frac_of_bw_limit"].is_null());
  EXPECT_TRUE(bench_row_json(rows[0])["mem_bw_samples_gbs"].is_null());
  EXPECT_NE(bench_markdown_row(rows[2]).find("tg3"), std::string::npos);
}

TEST_F(BenchLib, DepthRunsAfterAPrefixInTheCache) {
  BenchConfig cfg;
  cfg.n_prompt = {4};
  cfg.n_gen = {3};
  cfg.n_depth = {0, 20};
  cfg.n_threads = {1};
  cfg.repetitions = 2;
  cfg.kv_bits = 8;
  cfg.bandwidth_buffer_bytes = 8 << 20;
  cfg.bandwidth_runs = 1;
  const auto rows = run_bench(*model_, cfg);
  ASSERT_EQ(rows.size(), 4u);
  const char* names[] = {"pp4", "pp4 @ d20", "tg3", "tg3 @ d20"};
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].test_name(), names[i]);
    EXPECT_EQ(rows[i].type_kv, "q8");
    EXPECT_GT(rows[i].avg_ts, 0.0);
  }
  // tg3 @ d20 attends to 21, 22, 23 positions: mean 22 (tg3 alone: 2, 3, 4).
  const ContextParams cp{.n_ctx = 64, .n_threads = 1, .kv_bits = 8};
  Context ctx(*model_, cp);
  const uint64_t per_pos = ctx.kv_cache_bytes() / uint64_t(ctx.n_ctx());
  EXPECT_EQ(rows[2].bytes_per_token, decode_traffic(*model_, 3.0, per_pos).total());
  EXPECT_EQ(rows[3].bytes_per_token, decode_traffic(*model_, 22.0, per_pos).total());
  EXPECT_GT(rows[3].bytes_per_token, rows[2].bytes_per_token);
  const auto j = bench_row_json(rows[3]);
  EXPECT_EQ(j["n_depth"], 20);
  EXPECT_EQ(j["type_k"], "q8");
  EXPECT_NE(bench_markdown_row(rows[3]).find("tg3 @ d20"), std::string::npos);
  cfg.n_depth = {-1};
  EXPECT_THROW(run_bench(*model_, cfg), Error);
}

TEST_F(BenchLib, TruncateReplaysTheSameStep) {
  // What depth runs rely on: after truncate(n), evaluating the same token gives the same logits as
  // the first time, whatever was written to the cache past n in between.
  ContextParams cp;
  cp.n_ctx = 32;
  cp.n_threads = 1;
  Context ctx(*model_, cp);
  const std::vector<int32_t> prefix = {1, 5, 9, 13, 17};
  const int32_t next = 21, other = 7;
  const int64_t n_vocab = model_->params().n_vocab;
  ctx.eval(prefix);
  ctx.eval(std::span<const int32_t>(&next, 1));
  const std::vector<float> first(ctx.logits(0), ctx.logits(0) + n_vocab);
  ctx.truncate(int64_t(prefix.size()));
  EXPECT_EQ(ctx.n_past(), int64_t(prefix.size()));
  for (int i = 0; i < 4; ++i) ctx.eval(std::span<const int32_t>(&other, 1));
  ctx.truncate(int64_t(prefix.size()));
  ctx.eval(std::span<const int32_t>(&next, 1));
  for (int64_t v = 0; v < n_vocab; ++v) ASSERT_EQ(ctx.logits(0)[v], first[size_t(v)]) << v;
  ctx.truncate(1000);  // never grows
  EXPECT_EQ(ctx.n_past(), int64_t(prefix.size()) + 1);
}

TEST_F(BenchLib, RejectsBadConfig) {
  BenchConfig cfg;
  cfg.repetitions = 0;
  EXPECT_THROW(run_bench(*model_, cfg), Error);
  cfg.repetitions = 1;
  cfg.n_prompt = {-1};
  EXPECT_THROW(run_bench(*model_, cfg), Error);
}

TEST(Bandwidth, ProbeKeepsItsBufferAcrossMeasurements) {
  ReadBandwidthProbe probe(2, 8 << 20);
  for (int runs : {1, 2}) {
    const BandwidthResult r = probe.measure(runs);
    EXPECT_EQ(r.buffer_bytes, uint64_t(8) << 20);
    ASSERT_EQ(r.samples.size(), size_t(runs));
    EXPECT_GT(r.bytes_per_second, 0.0);
  }
  EXPECT_THROW(ReadBandwidthProbe(4, 100), Error);
}

TEST(Bandwidth, MeasuresEveryRun) {
  const BandwidthResult r = measure_read_bandwidth(2, 8 << 20, 3);
  EXPECT_EQ(r.n_threads, 2);
  EXPECT_EQ(r.runs, 3);
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.buffer_bytes, uint64_t(8 << 20));
  for (double s : r.samples) EXPECT_GT(s, 0.0);
  EXPECT_EQ(r.bytes_per_second, *std::max_element(r.samples.begin(), r.samples.end()));
  EXPECT_LE(r.mean_bytes_per_second, r.bytes_per_second * (1 + 1e-12));
  EXPECT_THROW(measure_read_bandwidth(4, 100, 1), Error);
}

}  // namespace
}  // namespace bitnet
