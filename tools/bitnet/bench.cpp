// `bitnet bench -m FILE -p 128,512 -n 32,128 -d 0,4096 -t 1,2 -r 5 -o md|json|jsonl|csv`: llama-bench's
// tests and output, plus the kernel used and each decode figure against the memory-bandwidth
// limit (see src/runtime/bench.h).
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "model_options.h"
#include "runtime/bench.h"
#include "util/error.h"
#include "util/log.h"

namespace bitnet::cli {
namespace {

void setup_bench(CLI::App& app) {
  struct Args {
    ModelOptions model;
    std::vector<int> n_prompt = {512}, n_gen = {128}, n_depth = {0}, n_threads;
    int reps = 5;
    std::string output = "md";
    bool no_warmup = false, no_bw = false;
    uint64_t seed = 1;
    uint64_t bw_mib = 1024;
    int bw_runs = 5;
  };
  auto args = std::make_shared<Args>();
  auto* sub = app.add_subcommand("bench", "Prompt-processing (pp) and generation (tg) speed, as llama-bench");
  sub->add_option("-m,--model", args->model.model, "Model file (GGUF); default: the model shipped in models/")
      ->envname("BITNET_MODEL");
  sub->add_option("-p,--n-prompt", args->n_prompt, "Prompt lengths, comma-separated (0 skips pp tests)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-n,--n-gen", args->n_gen, "Generation lengths, comma-separated (0 skips tg tests)")
      ->delimiter(',')
      ->capture_default_str();
  sub->add_option("-d,--n-depth", args->n_depth,
                  "KV depths, comma-separated: positions already in the cache when each test starts")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  sub->add_option("-t,--threads", args->n_threads, "Thread counts, comma-separated (default: all hardware threads)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  sub->add_option("-b,--batch-size", args->model.n_batch, "Max tokens per forward pass during prompt processing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("-r,--repetitions", args->reps, "Timed repetitions of each test")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("-o,--output", args->output, "Output format: md, json, jsonl, csv")->capture_default_str()
      ->check(CLI::IsMember({"md", "json", "jsonl", "csv"}));
  sub->add_option("--isa", args->model.isa, "Force a kernel ISA level: scalar, avx2, avx512, neon")->envname("BITNET_ISA");
  sub->add_flag("--no-warmup", args->no_warmup, "Skip the untimed warm-up run of each test");
  sub->add_option("--seed", args->seed, "Seed of the random prompt / decode tokens")->capture_default_str();
  sub->add_option("--bw-size", args->bw_mib, "Buffer for the read-bandwidth measurement, MiB (>> last-level cache)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_option("--bw-runs", args->bw_runs,
                  "Bandwidth runs before each tg repetition (the best one counts)")->capture_default_str()
      ->check(CLI::PositiveNumber);
  sub->add_flag("--no-bw", args->no_bw, "Do not measure memory bandwidth (no limit column)");
  add_mode_options(sub, args->model);
  add_verbosity_flags(*sub);
  sub->callback([args] {
    const auto model = load_model(args->model, nullptr);
    BenchConfig cfg;
    cfg.n_prompt = args->n_prompt;
    cfg.n_gen = args->n_gen;
    cfg.n_depth = args->n_depth;
    cfg.n_threads = args->n_threads.empty() ? std::vector<int>{0} : args->n_threads;
    cfg.repetitions = args->reps;
    cfg.n_batch = args->model.n_batch;
    cfg.warmup = !args->no_warmup;
    cfg.seed = args->seed;
    cfg.measure_bandwidth = !args->no_bw;
    cfg.bandwidth_buffer_bytes = args->bw_mib << 20;
    cfg.bandwidth_runs = args->bw_runs;
    const ContextParams mode = context_params(args->model);
    cfg.a48 = mode.a48;
    cfg.act_bits = mode.act_bits;
    cfg.topk_o = mode.topk_o;
    cfg.kv_bits = mode.kv_bits;

    const std::string& fmt = args->output;
    std::map<int, double> bandwidth;
    if (fmt == "md") std::printf("%s\n", bench_markdown_header().c_str());
    if (fmt == "csv") std::printf("%s\n", bench_csv_header().c_str());
    std::fflush(stdout);
    auto on_bw = [&](int threads, double bps) {
      bandwidth[threads] = bps;
      log_info("bench: memory read bandwidth with {} thread{}: {:.1f} GB/s ({} MiB buffer, best of {})", threads,
               threads == 1 ? "" : "s", bps * 1e-9, args->bw_mib, args->bw_runs);
    };
    auto on_row = [&](const BenchRow& r) {
      if (fmt == "md") std::printf("%s\n", bench_markdown_row(r).c_str());
      else if (fmt == "jsonl") std::printf("%s\n", bench_row_json(r).dump().c_str());
      else if (fmt == "csv") std::printf("%s\n", bench_csv_row(r).c_str());
      std::fflush(stdout);
    };
    const std::vector<BenchRow> rows = run_bench(*model, cfg, on_row, on_bw);
    if (fmt == "json") {
      nlohmann::ordered_json all = nlohmann::ordered_json::array();
      for (const BenchRow& r : rows) all.push_back(bench_row_json(r));
      std::printf("%s\n", all.dump(2).c_str());
    } else if (fmt == "md") {
      std::printf("\nbuild: %s\n", rows.empty() ? "" : rows.front().build_commit.c_str());
      for (const auto& [threads, bps] : bandwidth)
        std::printf("memory read bandwidth, %d thread%s: %.1f GB/s (%llu MiB buffer, best of %d)\n", threads,
                    threads == 1 ? "" : "s", bps * 1e-9, static_cast<unsigned long long>(args->bw_mib), args->bw_runs);
      for (const BenchRow& r : rows) {
        if (r.mem_bw_samples.empty()) continue;
        const auto [lo, hi] = std::minmax_element(r.mem_bw_samples.begin(), r.mem_bw_samples.end());
        std::printf("%s, %d thread%s: bandwidth before each repetition %.1f-%.1f GB/s (mean %.1f); of limit = mean "
                    "of each repetition's t/s over its own limit\n",
                    r.test_name().c_str(), r.n_threads, r.n_threads == 1 ? "" : "s", *lo * 1e-9, *hi * 1e-9,
                    r.mem_bw * 1e-9);
      }
      std::map<std::string, bool> shown;
      for (const BenchRow& r : rows) {
        if (r.n_gen == 0 || shown[r.test_name()]) continue;
        shown[r.test_name()] = true;
        std::printf("%s bytes per token: %.3f GB needed (head at its stored precision, KV %s; the limit uses "
                    "this), %.3f GB as this build holds the weights\n",
                    r.test_name().c_str(), double(r.bytes_per_token) * 1e-9, r.type_kv.c_str(),
                    double(r.bytes_per_token_in_memory) * 1e-9);
      }
      double worst = 0;
      for (const BenchRow& r : rows) worst = std::max(worst, r.preempted_share);
      if (worst > 0.05)
        std::printf("warning: the threads spent up to %.0f%% of their time waiting for a CPU (other load on the "
                    "machine); the figures understate the engine\n", 100 * worst);
      if (!rows.empty()) {
        const BenchRow& r = rows.front();
        std::printf("cpu: %s\n", r.cpu_info.empty() ? "unknown" : r.cpu_info.c_str());
      }
    }
    std::fflush(stdout);
  });
}

}  // namespace

BITNET_REGISTER_COMMAND(bench, setup_bench)

}  // namespace bitnet::cli
