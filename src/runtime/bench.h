// End-to-end speed tests in llama-bench's style (`bitnet bench`): pp<N> evaluates a prompt of N
// random tokens in one eval call (batched prefill), tg<N> decodes N tokens one at a time after a
// BOS. Each test runs once as a warm-up, then `repetitions` timed times; t/s is reported as mean
// and standard deviation over the repetitions. Decode figures also come with the memory-bandwidth
// limit: read bandwidth (measured with the test's thread count, right before each repetition) /
// bytes read per token.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace bitnet {

class Model;

struct BenchConfig {
  std::vector<int> n_prompt = {512};  // pp tests (0 entries are skipped)
  std::vector<int> n_gen = {128};     // tg tests (0 entries are skipped)
  std::vector<int> n_threads = {0};   // 0: all hardware threads
  // KV depth (llama-bench -d): each test runs after this many positions are already in the cache
  // (evaluated once, untimed; the repetitions truncate back to it). tg at depth d reads d positions of
  // K and V per layer per token, which is what the KV precision changes.
  std::vector<int> n_depth = {0};
  int repetitions = 5;
  int64_t n_batch = 512;
  bool warmup = true;
  uint64_t seed = 1;  // prompt / decode token ids
  bool measure_bandwidth = true;
  uint64_t bandwidth_buffer_bytes = uint64_t(1) << 30;
  int bandwidth_runs = 5;
  // BitNet a4.8 switches, as ContextParams (-1 / 0: follow the model).
  int a48 = -1, act_bits = 0, topk_o = -1, kv_bits = 0;
};

// Bytes one decode step must read at a given KV depth (positions attended to), by source. The LM
// head is counted as the file stores it (f16 in the official 2B-4T file): that is the traffic an
// implementation needs, and what bitnet.cpp's figures are measured against. lm_head_in_memory is
// what this build's graph actually streams (it may hold the head decoded to f32), for diagnosis.
struct DecodeTraffic {
  uint64_t ternary = 0;   // packed projection weights (Model::packed_weight_bytes)
  uint64_t lm_head = 0;   // the output matrix as stored in the file
  uint64_t lm_head_in_memory = 0;  // Model::lm_head() as the graph holds it (int8 copy by default)
  uint64_t norms = 0;     // RMSNorm gains
  uint64_t embedding = 0; // one row of token_embd
  uint64_t kv = 0;        // K and V of every layer up to the depth
  uint64_t total() const { return ternary + lm_head + norms + embedding + kv; }
  uint64_t total_in_memory() const { return ternary + lm_head_in_memory + norms + embedding + kv; }
};
// kv_bytes_per_position: K+V bytes of one position over all layers as the context's cache holds
// them (Context::kv_cache_bytes() / n_ctx()); 0 means an f32 cache.
DecodeTraffic decode_traffic(const Model& model, double depth, uint64_t kv_bytes_per_position = 0);

// What llama-bench reports about the model, from the GGUF file.
struct BenchModelInfo {
  std::string filename;
  std::string type;      // "bitnet-b1.58 2.4B BT2 - 2 bpw ternary"
  uint64_t size = 0;     // tensor bytes in the file
  uint64_t n_params = 0; // tensor elements in the file
};
BenchModelInfo bench_model_info(const Model& model);

struct BenchRow {
  std::string build_commit, cpu_info, isa, kernel, test_time;
  BenchModelInfo model;
  int n_threads = 0;
  int64_t n_batch = 0;
  int n_prompt = 0, n_gen = 0, n_depth = 0;
  std::string type_kv = "f32";  // KV cache element type: f32, f16, q8, q4, q3
  std::vector<double> samples_ns, samples_ts;
  double avg_ns = 0, stddev_ns = 0, avg_ts = 0, stddev_ts = 0;
  // tg rows only (0 / empty for pp rows): bytes per token, and the read bandwidth (bytes/s) measured
  // right before each repetition. mem_bw is their mean and bw_limit_ts = mem_bw / bytes_per_token;
  // frac_of_bw_limit is the mean over repetitions of t/s divided by the limit of that repetition's
  // own bandwidth sample (on a shared machine the bandwidth moves between repetitions).
  uint64_t bytes_per_token = 0;
  uint64_t bytes_per_token_in_memory = 0;  // DecodeTraffic::total_in_memory
  std::vector<double> mem_bw_samples;
  double mem_bw = 0, bw_limit_ts = 0, frac_of_bw_limit = 0;
  // Time the process's threads spent runnable but not running (run-queue delay, from Linux
  // schedstat) over wall time x threads, during the timed repetitions. Above a few percent the
  // machine was busy and the figure understates the engine. 0 where schedstat is unavailable.
  double preempted_share = 0;

  std::string test_name() const;  // "pp512", "tg128", "tg128 @ d4096"
};

// Runs every test for every thread count and depth (pp tests before tg tests, as llama-bench) and calls
// on_row as each finishes. on_bandwidth is called when a thread count's bandwidth is first measured
// (before its first tg test; the probe is measured again before every tg repetition).
std::vector<BenchRow> run_bench(const Model& model, const BenchConfig& config,
                                const std::function<void(const BenchRow&)>& on_row = {},
                                const std::function<void(int n_threads, double bytes_per_s)>& on_bandwidth = {});

// ---- output (llama-bench's field names, plus isa, kernel, bytes_per_token,
// bytes_per_token_in_memory, mem_bw_gbs, mem_bw_samples_gbs, bw_limit_ts, frac_of_bw_limit,
// preempted_share)
nlohmann::ordered_json bench_row_json(const BenchRow& row);
std::string bench_markdown_header();
std::string bench_markdown_row(const BenchRow& row);
std::string bench_csv_header();
std::string bench_csv_row(const BenchRow& row);

}  // namespace bitnet
