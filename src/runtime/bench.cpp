#include "runtime/bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <random>

#include <dirent.h>

#include "format/gguf.h"
#include "graph/context.h"
#include "kernels.h"
#include "model/model.h"
#include "runtime/bandwidth.h"
#include "util/build_info.h"
#include "util/error.h"

namespace bitnet {
namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// llama.cpp-style size label: "2.4B", "729M".
std::string size_label(uint64_t n_params) {
  if (n_params >= 1000000000ull) return fmt::format("{:.1f}B", double(n_params) * 1e-9);
  return fmt::format("{:.0f}M", double(n_params) * 1e-6);
}

// The variant name ("avx512vnni") is more telling than the ISA level ("avx512").
std::string active_variant_name() {
  const kernels::KernelSet* active = &kernels::kernels();
  for (const auto& v : kernels::kernel_variants())
    if (v.set == active) return v.name;
  return kernels::isa_name(active->isa);
}

void mean_stddev(const std::vector<double>& x, double* mean, double* stddev) {
  double s = 0;
  for (double v : x) s += v;
  *mean = x.empty() ? 0 : s / double(x.size());
  double q = 0;
  for (double v : x) q += (v - *mean) * (v - *mean);
  *stddev = x.size() > 1 ? std::sqrt(q / double(x.size() - 1)) : 0;  // sample stddev, as llama-bench
}

// Sum over this process's threads of the time spent waiting on a run queue (Linux schedstat's
// second field, ns); 0 where it is not available.
double run_queue_delay_ns() {
  double total = 0;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = std::string("/proc/self/task/") + e->d_name + "/schedstat";
    if (FILE* f = std::fopen(path.c_str(), "r")) {
      unsigned long long run = 0, wait = 0;
      if (std::fscanf(f, "%llu %llu", &run, &wait) == 2) total += double(wait);
      std::fclose(f);
    }
  }
  closedir(dir);
  return total;
}

double elapsed_ns(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

std::string BenchRow::test_name() const {
  std::string name = n_prompt > 0 && n_gen == 0   ? fmt::format("pp{}", n_prompt)
                     : n_gen > 0 && n_prompt == 0 ? fmt::format("tg{}", n_gen)
                                                  : fmt::format("pp{}+tg{}", n_prompt, n_gen);
  if (n_depth > 0) name += fmt::format(" @ d{}", n_depth);  // llama-bench's spelling
  return name;
}

DecodeTraffic decode_traffic(const Model& model, double depth, uint64_t kv_bytes_per_position) {
  const ModelParams& p = model.params();
  DecodeTraffic t;
  t.ternary = model.packed_weight_bytes();
  // The head as the graph multiplies it (the int8 copy by default, or the file's own F32/F16 rows;
  // BF16/Q8_0 are expanded to f32 at load); the file's tensor gives its stored precision.
  t.lm_head_in_memory = model.lm_head().bytes();
  const auto file = gguf::File::open(model.path());
  const gguf::TensorInfo* head = file->find_tensor(model.output_tied() ? "token_embd.weight" : "output.weight");
  t.lm_head = head ? head->nbytes : t.lm_head_in_memory;
  t.embedding = uint64_t(p.n_embd) * sizeof(float);
  uint64_t norm_elems = model.output_norm().size();
  for (const LayerWeights& L : model.layers())
    norm_elems += L.attn_norm.size() + L.attn_sub_norm.size() + L.ffn_norm.size() + L.ffn_sub_norm.size();
  t.norms = norm_elems * sizeof(float);
  const double per_pos = kv_bytes_per_position > 0 ? double(kv_bytes_per_position)
                                                   : 2.0 * double(p.n_layer) * double(p.kv_dim()) * sizeof(float);
  t.kv = uint64_t(std::llround(per_pos * std::max(depth, 0.0)));
  return t;
}

BenchModelInfo bench_model_info(const Model& model) {
  BenchModelInfo info;
  info.filename = model.path();
  const auto file = gguf::File::open(model.path());
  for (const gguf::TensorInfo& t : file->tensors()) {
    info.size += t.nbytes;
    info.n_params += t.n_elements();
  }
  const gguf::TensorInfo* q = file->find_tensor("blk.0.attn_q.weight");
  std::string type = q ? std::string(tensor_type_traits(q->type).name) : "?";
  std::transform(type.begin(), type.end(), type.begin(), [](unsigned char c) { return char(std::toupper(c)); });
  info.type = fmt::format("{} {} {}", model.params().architecture, size_label(info.n_params), type);
  return info;
}

std::vector<BenchRow> run_bench(const Model& model, const BenchConfig& cfg,
                                const std::function<void(const BenchRow&)>& on_row,
                                const std::function<void(int, double)>& on_bandwidth) {
  if (cfg.repetitions < 1) fail("bench: repetitions must be at least 1, got {}", cfg.repetitions);
  for (int n : cfg.n_prompt)
    if (n < 0) fail("bench: prompt length {} is negative", n);
  for (int n : cfg.n_gen)
    if (n < 0) fail("bench: generation length {} is negative", n);
  for (int n : cfg.n_depth)
    if (n < 0) fail("bench: depth {} is negative", n);
  const std::vector<int> depths = cfg.n_depth.empty() ? std::vector<int>{0} : cfg.n_depth;
  const ModelParams& p = model.params();
  BenchRow base;
  base.build_commit = build_commit();
  base.cpu_info = kernels::cpu_info().brand;
  base.isa = active_variant_name();
  base.kernel = model.kernel_name();
  base.model = bench_model_info(model);
  base.n_batch = cfg.n_batch;

  std::mt19937_64 rng(cfg.seed);
  std::uniform_int_distribution<int32_t> token(0, int32_t(p.n_vocab - 1));
  const int32_t bos = model.vocab().bos_id >= 0 ? model.vocab().bos_id : 0;

  std::vector<BenchRow> rows;
  // One probe per thread count, kept for the whole run: it is re-measured before every decode
  // repetition, and each repetition is compared with the bandwidth of its own moment.
  std::map<int, std::unique_ptr<ReadBandwidthProbe>> probes;
  for (int threads_opt : cfg.n_threads) {
    const int threads = threads_opt > 0 ? threads_opt : default_thread_count();
    struct Test { int n_prompt, n_gen, n_depth; };
    std::vector<Test> tests;
    for (int n : cfg.n_prompt)
      for (int d : depths)
        if (n > 0) tests.push_back({n, 0, d});
    for (int n : cfg.n_gen)
      for (int d : depths)
        if (n > 0) tests.push_back({0, n, d});
    for (const Test& test : tests) {
      BenchRow row = base;
      row.n_threads = threads;
      row.n_prompt = test.n_prompt;
      row.n_gen = test.n_gen;
      row.n_depth = test.n_depth;
      row.test_time = utc_now();
      ContextParams cp;
      // tg without depth starts from a BOS; with depth the prefix (BOS first) takes its place.
      const int64_t prefix = test.n_depth > 0 ? test.n_depth : (test.n_gen > 0 ? 1 : 0);
      cp.n_ctx = prefix + (test.n_prompt > 0 ? test.n_prompt : test.n_gen);
      cp.n_batch = cfg.n_batch;
      cp.n_threads = threads;
      cp.a48 = cfg.a48;
      cp.act_bits = cfg.act_bits;
      cp.topk_o = cfg.topk_o;
      cp.kv_bits = cfg.kv_bits;
      Context ctx(model, cp);

      ReadBandwidthProbe* probe = nullptr;
      if (test.n_gen > 0 && cfg.measure_bandwidth) {
        auto& slot = probes[threads];
        if (!slot) {
          slot = std::make_unique<ReadBandwidthProbe>(threads, cfg.bandwidth_buffer_bytes);
          const double bps = slot->measure(cfg.bandwidth_runs).bytes_per_second;
          if (on_bandwidth) on_bandwidth(threads, bps);
        }
        probe = slot.get();
      }

      row.type_kv = ctx.scheme().kv_bits == 32 ? "f32" : ctx.scheme().kv_bits == 16 ? "f16"
                                                      : fmt::format("q{}", ctx.scheme().kv_bits);
      std::vector<int32_t> tokens(size_t(std::max(test.n_prompt, test.n_gen)));
      for (int32_t& t : tokens) t = token(rng);
      // The prefix is evaluated once (batched, untimed); each run truncates back to it.
      std::vector<int32_t> prefix_tokens(static_cast<size_t>(prefix));
      for (int32_t& t : prefix_tokens) t = token(rng);
      if (prefix > 0) prefix_tokens[0] = bos;
      ctx.reset();
      if (prefix > 0) ctx.eval(prefix_tokens);
      auto run_once = [&](int n_gen) -> double {
        ctx.truncate(prefix);
        if (test.n_prompt > 0) {
          const auto t0 = std::chrono::steady_clock::now();
          ctx.eval(tokens, /*all_logits=*/false);  // the whole prompt in one call: batched prefill
          return elapsed_ns(t0);
        }
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n_gen; ++i) ctx.eval(std::span<const int32_t>(&tokens[size_t(i)], 1));
        return elapsed_ns(t0);
      };
      // Warm-up as llama-bench: the whole prompt, or one decode step.
      if (cfg.warmup) run_once(std::min(test.n_gen, 1));
      const int n_tokens = test.n_prompt > 0 ? test.n_prompt : test.n_gen;
      const double delay0 = run_queue_delay_ns();
      for (int r = 0; r < cfg.repetitions; ++r) {
        if (probe) row.mem_bw_samples.push_back(probe->measure(cfg.bandwidth_runs).bytes_per_second);
        const double ns = run_once(test.n_gen);
        row.samples_ns.push_back(ns);
        row.samples_ts.push_back(double(n_tokens) * 1e9 / std::max(ns, 1.0));
      }
      double wall_ns = 0;
      for (double ns : row.samples_ns) wall_ns += ns;
      row.preempted_share = (run_queue_delay_ns() - delay0) / std::max(wall_ns * threads, 1.0);
      mean_stddev(row.samples_ns, &row.avg_ns, &row.stddev_ns);
      mean_stddev(row.samples_ts, &row.avg_ts, &row.stddev_ts);
      if (test.n_gen > 0) {
        // Decode step i (0-based) attends to positions 0..prefix+i: mean depth prefix + (n + 1) / 2.
        // The cache as the context holds it (f32, or 16/8/4/3-bit).
        const DecodeTraffic traffic = decode_traffic(model, double(prefix) + (double(test.n_gen) + 1.0) / 2.0,
                                                     ctx.kv_cache_bytes() / uint64_t(ctx.n_ctx()));
        row.bytes_per_token = traffic.total();
        row.bytes_per_token_in_memory = traffic.total_in_memory();
        if (!row.mem_bw_samples.empty()) {
          // Each repetition against the limit measured just before it, then the mean of those.
          double bw_sum = 0, frac_sum = 0;
          for (size_t r = 0; r < row.mem_bw_samples.size(); ++r) {
            bw_sum += row.mem_bw_samples[r];
            frac_sum += row.samples_ts[r] * double(row.bytes_per_token) / row.mem_bw_samples[r];
          }
          const double n = double(row.mem_bw_samples.size());
          row.mem_bw = bw_sum / n;
          row.bw_limit_ts = row.mem_bw / double(row.bytes_per_token);
          row.frac_of_bw_limit = frac_sum / n;
        }
      }
      if (on_row) on_row(row);
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

}  // namespace bitnet
