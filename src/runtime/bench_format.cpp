// Output of `bitnet bench` in llama-bench's formats: a markdown table, JSON / JSONL rows and CSV,
// with llama-bench's field names so existing tooling can read them.
#include <fmt/format.h>

#include "runtime/bench.h"

namespace bitnet {
namespace {

std::string human_size(uint64_t bytes) {
  const double b = double(bytes);
  if (b >= 1024.0 * 1024 * 1024) return fmt::format("{:.2f} GiB", b / (1024.0 * 1024 * 1024));
  return fmt::format("{:.2f} MiB", b / (1024.0 * 1024));
}

std::string human_params(uint64_t n) {
  if (n >= 1000000000ull) return fmt::format("{:.2f} B", double(n) * 1e-9);
  return fmt::format("{:.2f} M", double(n) * 1e-6);
}

std::string csv_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Column widths as llama-bench's; the model column grows with the name.
constexpr const char* kHeader =
    "| {:<30} | {:>10} | {:>10} | {:<7} | {:<10} | {:<16} | {:>7} | {:>16} | {:>18} | {:>12} | {:>8} |";

}  // namespace

nlohmann::ordered_json bench_row_json(const BenchRow& r) {
  nlohmann::ordered_json j;
  const bool tg = r.n_gen > 0;
  j["build_commit"] = r.build_commit;
  j["build_number"] = 0;
  j["cpu_info"] = r.cpu_info;
  j["gpu_info"] = "";
  j["backends"] = "CPU";
  j["model_filename"] = r.model.filename;
  j["model_type"] = r.model.type;
  j["model_size"] = r.model.size;
  j["model_n_params"] = r.model.n_params;
  j["n_batch"] = r.n_batch;
  j["n_ubatch"] = r.n_batch;
  j["n_threads"] = r.n_threads;
  j["type_k"] = r.type_kv;
  j["type_v"] = r.type_kv;
  j["n_gpu_layers"] = 0;
  j["use_mmap"] = true;
  j["n_prompt"] = r.n_prompt;
  j["n_gen"] = r.n_gen;
  j["n_depth"] = r.n_depth;
  j["test_time"] = r.test_time;
  j["avg_ns"] = uint64_t(r.avg_ns);
  j["stddev_ns"] = uint64_t(r.stddev_ns);
  j["avg_ts"] = r.avg_ts;
  j["stddev_ts"] = r.stddev_ts;
  std::vector<uint64_t> ns;
  for (double v : r.samples_ns) ns.push_back(uint64_t(v));
  j["samples_ns"] = ns;
  j["samples_ts"] = r.samples_ts;
  // libbitnet's own fields. Bandwidth figures only mean something for decode rows (null else).
  j["isa"] = r.isa;
  j["kernel"] = r.kernel;
  j["bytes_per_token"] = tg ? nlohmann::ordered_json(r.bytes_per_token) : nullptr;
  j["bytes_per_token_in_memory"] = tg ? nlohmann::ordered_json(r.bytes_per_token_in_memory) : nullptr;
  j["mem_bw_gbs"] = tg && r.mem_bw > 0 ? nlohmann::ordered_json(r.mem_bw * 1e-9) : nullptr;
  if (tg && !r.mem_bw_samples.empty()) {
    std::vector<double> gbs;
    for (double v : r.mem_bw_samples) gbs.push_back(v * 1e-9);
    j["mem_bw_samples_gbs"] = gbs;
  } else {
    j["mem_bw_samples_gbs"] = nullptr;
  }
  j["bw_limit_ts"] = tg && r.mem_bw > 0 ? nlohmann::ordered_json(r.bw_limit_ts) : nullptr;
  j["frac_of_bw_limit"] = tg && r.mem_bw > 0 ? nlohmann::ordered_json(r.frac_of_bw_limit) : nullptr;
  j["preempted_share"] = r.preempted_share;
  return j;
}

std::string bench_markdown_header() {
  std::string s = fmt::format(kHeader, "model", "size", "params", "backend", "isa", "kernel", "threads", "test",
                              "t/s", "bw limit t/s", "of limit");
  s += "\n| ------------------------------ | ---------: | ---------: | ------- | ---------- | ---------------- "
       "| ------: | ---------------: | -----------------: | -----------: | -------: |";
  return s;
}

std::string bench_markdown_row(const BenchRow& r) {
  const bool bw = r.n_gen > 0 && r.mem_bw > 0;
  return fmt::format(kHeader, r.model.type, human_size(r.model.size), human_params(r.model.n_params), "CPU", r.isa,
                     r.kernel, r.n_threads, r.test_name(), fmt::format("{:.2f} ± {:.2f}", r.avg_ts, r.stddev_ts),
                     bw ? fmt::format("{:.2f}", r.bw_limit_ts) : "-",
                     bw ? fmt::format("{:.1f}%", 100.0 * r.frac_of_bw_limit) : "-");
}

std::string bench_csv_header() {
  std::string s;
  const nlohmann::ordered_json j = bench_row_json(BenchRow{});  // items() must not outlive it
  for (const auto& [key, value] : j.items()) {
    if (!s.empty()) s += ',';
    s += key;
  }
  return s;
}

std::string bench_csv_row(const BenchRow& r) {
  std::string s;
  bool first = true;
  const nlohmann::ordered_json j = bench_row_json(r);
  for (const auto& [key, value] : j.items()) {
    if (!first) s += ',';
    first = false;
    if (value.is_null()) continue;
    // Arrays as llama-bench writes them: space-separated inside one quoted field.
    if (value.is_array()) {
      std::string joined;
      for (const auto& v : value) joined += (joined.empty() ? "" : " ") + v.dump();
      s += csv_quote(joined);
    } else if (value.is_string()) {
      s += csv_quote(value.get<std::string>());
    } else {
      s += value.dump();
    }
  }
  return s;
}

}  // namespace bitnet
